//! `review-router --config config/router.toml` serves; `… keys create NAME` prints a new client
//! key once (only its hash is kept); `… keys revoke ID` revokes one.

use std::path::PathBuf;
use std::process::ExitCode;

use router::ledger::Ledger;
use router::{RouterConfig, RouterError};

const USAGE: &str = "usage: review-router --config FILE [keys create NAME | keys revoke ID]";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REVIEW_ROUTER_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("review-router: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let (config_path, rest) = match args {
        [flag, path, rest @ ..] if flag == "--config" => (PathBuf::from(path), rest),
        _ => return Err(USAGE.into()),
    };
    let config = RouterConfig::load(&config_path).map_err(|e| e.to_string())?;
    match rest {
        [] => serve(config).await.map_err(|e| e.to_string()),
        [keys, create, name] if keys == "keys" && create == "create" => {
            let ledger = Ledger::open(&config.database)
                .await
                .map_err(|e| e.to_string())?;
            let (client, key) = ledger
                .create_client(name)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "client {} ({}) created; the key is shown once:",
                client.id, client.name
            );
            // the key itself goes to stdout, for a script to capture
            #[allow(clippy::print_stdout)]
            {
                println!("{key}");
            }
            Ok(())
        }
        [keys, revoke, id] if keys == "keys" && revoke == "revoke" => {
            let id: i64 = id.parse().map_err(|_| format!("not a client id: {id}"))?;
            let ledger = Ledger::open(&config.database)
                .await
                .map_err(|e| e.to_string())?;
            match ledger.revoke_client(id).await.map_err(|e| e.to_string())? {
                true => Ok(()),
                false => Err(format!("no live client {id}")),
            }
        }
        _ => Err(USAGE.into()),
    }
}

async fn serve(config: RouterConfig) -> Result<(), RouterError> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = %config.database.display(), "review-router listening");
    // the tests and scripts read the bound address (the config may ask for port 0)
    eprintln!("listening on {address}");
    router::serve(config, listener, shutdown()).await
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down: finishing requests and flushing the ledger");
}

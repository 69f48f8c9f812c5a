//! `review-router --config config/router.toml` serves; `… keys create NAME` prints a new client
//! key once (only its hash is kept); `… keys revoke ID` revokes one; `… users add NAME --role
//! admin` creates an account with the password read from stdin (how the first admin comes to
//! be: there is no default password), and `users list | reset-totp | unlock |
//! revoke-sessions NAME` look after them.

use std::path::PathBuf;
use std::process::ExitCode;

use protocol::account::Role;
use router::accounts::Accounts;
use router::ledger::Ledger;
use router::{RouterConfig, RouterError};

const USAGE: &str = "usage: review-router --config FILE [keys create NAME | keys revoke ID | users add NAME --role reviewer|auditor|admin (password on stdin) | users list | users reset-totp NAME | users unlock NAME | users revoke-sessions NAME]";

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
        [users, rest @ ..] if users == "users" => {
            let ledger = Ledger::open(&config.database)
                .await
                .map_err(|e| e.to_string())?;
            // creating and looking after accounts needs no sealing key (only sign-in does)
            let accounts = Accounts::new(ledger.db().clone(), None);
            users_command(&accounts, rest).await
        }
        _ => Err(USAGE.into()),
    }
}

async fn users_command(accounts: &Accounts, args: &[String]) -> Result<(), String> {
    let id_of = |name: &str| {
        let name = name.to_owned();
        async move {
            accounts
                .id_of(&name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no account named {name:?}"))
        }
    };
    match args {
        [add, name, flag, role] if add == "add" && flag == "--role" => {
            let role: Role = role.parse().map_err(|e| format!("{e}"))?;
            let password = read_password()?;
            let account = accounts
                .create(name, role, &password)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "account {} ({}, {}) created; it enrols an authenticator at its first sign-in",
                account.id,
                account.name,
                account.role.as_str()
            );
            Ok(())
        }
        [list] if list == "list" => {
            for account in accounts.list().await.map_err(|e| e.to_string())? {
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "{}\t{}\t{}",
                        account.id,
                        account.name,
                        account.role.as_str()
                    );
                }
            }
            Ok(())
        }
        [command, name] if command == "reset-totp" => accounts
            .reset_totp(id_of(name).await?)
            .await
            .map_err(|e| e.to_string()),
        [command, name] if command == "unlock" => accounts
            .unlock(id_of(name).await?)
            .await
            .map_err(|e| e.to_string()),
        [command, name] if command == "revoke-sessions" => {
            let n = accounts
                .revoke_sessions(id_of(name).await?)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("{n} session(s) ended");
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

/// The new password: the first line of stdin (a prompt on stderr when it is a terminal).
fn read_password() -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "password (at least {} characters): ",
            router::accounts::MIN_CHARS
        );
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("the password cannot be read from stdin: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("no password on stdin".into());
    }
    Ok(password)
}

async fn serve(config: RouterConfig) -> Result<(), RouterError> {
    let (listen, database) = (config.listen, config.database.clone());
    // migrated before it listens: a command run once it listens finds the ledger ready
    let state = router::state::AppState::new(config).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = %database.describe(), "review-router listening");
    // the tests and scripts read the bound address (the config may ask for port 0)
    eprintln!("listening on {address}");
    router::serve_state(state, listener, shutdown()).await
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

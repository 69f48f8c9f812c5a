//! `fake-llm`: the fault-injecting fake LLM provider as a process, for the router's tests and
//! benchmarks only (see the library's docs). Prints `listening on ADDR` once bound.

use fake_llm::{FakeConfig, Provider, Script};
use std::io::Write;
use std::path::PathBuf;

const USAGE: &str = "usage: fake-llm [--listen ADDR] [--port-file PATH] [--script FILE.json] \
[--provider gemini|openai] [--model NAME]... [--api-key-env VAR]";

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{USAGE}")]
    Help,
    #[error("{0}\n{USAGE}")]
    Usage(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}")]
    Script(#[from] fake_llm::ScriptError),
}

#[derive(Debug)]
struct Args {
    listen: String,
    port_file: Option<PathBuf>,
    config: FakeConfig,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, CliError> {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut port_file = None;
    let mut config = FakeConfig::new(Provider::Gemini);
    let mut models = Vec::new();
    let mut script = None;
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| CliError::Usage(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--listen" => listen = value()?,
            "--port-file" => port_file = Some(PathBuf::from(value()?)),
            "--script" => script = Some(PathBuf::from(value()?)),
            "--provider" => config.provider = value()?.parse().map_err(CliError::Usage)?,
            "--model" => models.push(value()?),
            // A key on the command line would show in `ps`; the variable's name does not.
            "--api-key-env" => {
                let name = value()?;
                let key = std::env::var(&name).map_err(|_| {
                    CliError::Usage(format!("environment variable {name} is not set"))
                })?;
                config.api_key = Some(key);
            }
            "-h" | "--help" => return Err(CliError::Help),
            other => return Err(CliError::Usage(format!("unknown argument {other:?}"))),
        }
    }
    config.models = if models.is_empty() {
        config.provider.default_models()
    } else {
        models
    };
    if let Some(path) = script {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::Io(format!("reading {}", path.display()), e))?;
        config.script = Script::from_json(&text)?;
    }
    Ok(Args {
        listen,
        port_file,
        config,
    })
}

async fn run() -> Result<(), CliError> {
    let args = parse(std::env::args().skip(1))?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| CliError::Io(format!("binding {}", args.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Io("reading the bound address".into(), e))?;
    if let Some(path) = &args.port_file {
        // Written aside and renamed, so a test polling for the file never reads half an address.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, format!("{addr}\n"))
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| CliError::Io(format!("writing {}", path.display()), e))?;
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {addr}")
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Io("writing to stdout".into(), e))?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::Io("installing the SIGTERM handler".into(), e))?;
    // No graceful drain: hung requests are the point of some scripts and would never finish.
    tokio::select! {
        served = fake_llm::serve(listener, args.config) => served.map_err(|e| CliError::Io("serving".into(), e)),
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = terminate.recv() => Ok(()),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(CliError::Help) => {
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "fake-llm: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

//! The router's store: SQLite (one file next to the config, the default) or PostgreSQL (a
//! `postgres://` URL, for replicas on several machines). Both run the same SQL — `$N`
//! placeholders, `TRUE`/`FALSE` for flags, upserts with `ON CONFLICT` — through [`with_db!`],
//! which compiles a body once per engine with that engine's own pool, so every bind and every
//! column is checked against the engine it runs on. Migrations: `migrations/` and their twins
//! in `migrations-postgres/`, version for version (a test holds the two schemas together).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Where the ledger lives, as the config names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// `postgres://USER@HOST:PORT/DB`; a password comes from `PGPASSWORD` (never the file).
    Postgres(String),
}

impl Location {
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(text))
        }
    }

    /// What to show in logs: the file, or the URL without any password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => match url.split_once('@') {
                Some((scheme_user, host)) => {
                    let user = scheme_user
                        .rsplit_once(':')
                        .filter(|(s, _)| s.contains("//"))
                        .map_or(scheme_user, |(user, _)| user);
                    format!("{user}@{host}")
                }
                None => url.clone(),
            },
        }
    }
}

/// An open pool on either engine.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the engine's own pool (`&SqlitePool` or `&PgPool`): the
/// body is compiled for each engine.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Opens (creating a SQLite file and its folder if missing) and migrates.
    pub async fn open(location: &Location, max_connections: u32) -> Result<Self, sqlx::Error> {
        match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let options = SqliteConnectOptions::from_str("sqlite://")?
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    .connect_with(options)
                    .await?;
                sqlx::migrate!("./migrations").run(&pool).await?;
                Ok(Self::Sqlite(pool))
            }
            Location::Postgres(url) => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                sqlx::migrate!("./migrations-postgres").run(&pool).await?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The database answers (`/readyz`).
    pub async fn ping(&self) -> bool {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }
}

/// A SQLite path relative to the config file's folder; a URL as it is.
pub fn resolve(location: Location, config_dir: &Path) -> Location {
    match location {
        Location::Sqlite(path) if path.is_relative() => Location::Sqlite(config_dir.join(path)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_postgres_anything_else_a_file_and_logs_never_show_a_password() {
        assert_eq!(
            Location::parse("router.db"),
            Location::Sqlite(PathBuf::from("router.db"))
        );
        let pg = Location::parse("postgres://review:s3cret@db.internal:5432/router");
        assert!(matches!(pg, Location::Postgres(_)));
        assert_eq!(pg.describe(), "postgres://review@db.internal:5432/router");
        assert_eq!(
            Location::parse("postgresql://review@127.0.0.1/router").describe(),
            "postgresql://review@127.0.0.1/router"
        );
        assert_eq!(
            resolve(Location::parse("data/router.db"), Path::new("/etc/router")),
            Location::Sqlite(PathBuf::from("/etc/router/data/router.db"))
        );
    }
}

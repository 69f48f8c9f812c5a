//! The PostgreSQL twin of the ledger's schema (`migrations-postgres/`, issue 20) against the
//! SQLite one it mirrors, on Debian's PostgreSQL started on a loopback port: the same versions,
//! tables, columns in the same order, matching types and nullability, the same indexes, and the
//! latency bins equal to the bit. A migration added to one side and not the other fails here.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::Row;
use testbed::Postgres;

fn migrations(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("a migrations folder")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("a migration"),
            )
        })
        .collect();
    files.sort();
    files
}

/// table → [(column, type, not null)]
type Columns = BTreeMap<String, Vec<(String, String, bool)>>;

#[tokio::test]
async fn the_postgres_schema_mirrors_the_sqlite_one() {
    let sqlite_files = migrations("migrations");
    let postgres_files = migrations("migrations-postgres");
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&sqlite_files),
        names(&postgres_files),
        "every migration has its PostgreSQL twin, same version and name"
    );

    // SQLite as the router migrates it
    let dir = tempfile::tempdir().unwrap();
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ledger.db").display()
    ))
    .await
    .unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut sqlite: Columns = BTreeMap::new();
    for table in &tables {
        let rows = sqlx::query(&format!("PRAGMA table_info({table})"))
            .fetch_all(&pool)
            .await
            .unwrap();
        sqlite.insert(
            table.clone(),
            rows.iter()
                .map(|r| {
                    let (name, kind, not_null, pk): (String, String, i64, i64) =
                        (r.get(1), r.get(2), r.get(3), r.get(5));
                    (name, kind, not_null != 0 || pk != 0)
                })
                .collect(),
        );
    }
    let sqlite_indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let sqlite_bins: Vec<f64> =
        sqlx::query_scalar("SELECT upper_ms FROM latency_bins ORDER BY bin")
            .fetch_all(&pool)
            .await
            .unwrap();

    // PostgreSQL, each twin in its own transaction as a migrator runs them
    let pg = Postgres::start();
    pg.create_database("ledger");
    for (name, sql) in &postgres_files {
        let out = pg.psql("ledger", &format!("BEGIN;\n{sql}\nCOMMIT;"));
        assert!(!out.contains("ERROR"), "{name}: {out}");
    }
    let mut postgres: Columns = BTreeMap::new();
    for line in pg
        .psql(
            "ledger",
            "SELECT table_name || '|' || column_name || '|' || data_type || '|' || is_nullable
               FROM information_schema.columns WHERE table_schema = 'public'
              ORDER BY table_name, ordinal_position",
        )
        .lines()
    {
        let parts: Vec<&str> = line.split('|').collect();
        let [table, column, kind, nullable] = parts[..] else {
            panic!("a column line: {line}");
        };
        postgres.entry(table.to_owned()).or_default().push((
            column.to_owned(),
            kind.to_owned(),
            nullable == "NO",
        ));
    }
    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &sqlite {
        let twin = &postgres[table];
        let names =
            |c: &[(String, String, bool)]| c.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(columns),
            names(twin),
            "{table}: the same columns in the same order"
        );
        for ((name, kind, not_null), (_, pg_kind, pg_not_null)) in columns.iter().zip(twin) {
            let fits = match kind.as_str() {
                "INTEGER" => pg_kind == "bigint" || pg_kind == "boolean",
                "REAL" => pg_kind == "double precision",
                "TEXT" => pg_kind == "text",
                "BLOB" => pg_kind == "bytea",
                _ => false,
            };
            assert!(
                fits,
                "{table}.{name}: {kind} in SQLite, {pg_kind} in PostgreSQL"
            );
            assert_eq!(not_null, pg_not_null, "{table}.{name}: nullability");
        }
    }
    let mut pg_indexes: Vec<String> = pg
        .psql(
            "ledger",
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
               AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        )
        .lines()
        .map(str::to_owned)
        .collect();
    pg_indexes.sort();
    assert_eq!(sqlite_indexes, pg_indexes, "the same indexes by name");

    let pg_bins: Vec<f64> = pg
        .psql(
            "ledger",
            "SET extra_float_digits = 3; SELECT upper_ms FROM latency_bins ORDER BY bin",
        )
        .lines()
        .filter(|l| !l.is_empty() && *l != "SET")
        .map(|l| l.parse().expect("a float"))
        .collect();
    assert_eq!(sqlite_bins.len(), 1201);
    assert_eq!(
        sqlite_bins.iter().map(|b| b.to_bits()).collect::<Vec<_>>(),
        pg_bins.iter().map(|b| b.to_bits()).collect::<Vec<_>>(),
        "the latency bins' bounds agree to the bit"
    );
}

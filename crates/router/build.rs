// `sqlx::migrate!` embeds the migrations when the crate compiles: a new or changed one must
// rebuild it, though no Rust file changed.
fn main() {
    println!("cargo::rerun-if-changed=migrations");
    println!("cargo::rerun-if-changed=migrations-postgres");
}

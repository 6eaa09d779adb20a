//! Rebuilds when a migration is added: `sqlx::migrate!` embeds the `migrations/` files at
//! compile time, and without this cargo would not notice a new file (sqlx's documented fix).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

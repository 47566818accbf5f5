//! Embeds the default programme's mart queries: every `queries/*.sql` (not its
//! subfolders), in file-name order. Adding a mart is adding a file; the Rust names none.

use std::fmt::Write as _;

fn main() {
    println!("cargo::rerun-if-changed=queries");
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut files: Vec<String> = std::fs::read_dir(format!("{root}/queries"))
        .expect("the queries folder")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|e| e == "sql")
        })
        .collect();
    files.sort();
    let mut out = String::from(
        "/// The embedded `queries/*.sql`: (path, text), in file-name order.\npub(super) const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for f in files {
        let _ = writeln!(
            out,
            "    (\"queries/{f}\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/queries/{f}\"))),"
        );
    }
    out.push_str("];\n");
    let dest = format!(
        "{}/queries.rs",
        std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")
    );
    std::fs::write(dest, out).expect("write the embedded query list");
}

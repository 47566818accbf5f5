//! Embeds the default programme's files: every `queries/*.sql` (not its subfolders) and
//! every file of `report-templates/`, in file-name order. Adding a mart or a template
//! is adding a file; the Rust names none.

use std::fmt::Write as _;
use std::path::Path;

/// The files of `folder` (not its subfolders) whose extension is one of `extensions`.
fn files(root: &str, folder: &str, extensions: &[&str]) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(format!("{root}/{folder}"))
        .unwrap_or_else(|e| panic!("the {folder} folder: {e}"))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            Path::new(n)
                .extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
        })
        .collect();
    files.sort();
    files
}

/// Writes `OUT_DIR/<name>`: a `&[(&str, &str)]` of (label, text) for each file.
fn embed(
    root: &str,
    folder: &str,
    extensions: &[&str],
    label: impl Fn(&str) -> String,
    name: &str,
) {
    println!("cargo::rerun-if-changed={folder}");
    let mut out = String::from("&[\n");
    for f in files(root, folder, extensions) {
        let _ = writeln!(
            out,
            "    (\"{}\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{folder}/{f}\"))),",
            label(&f)
        );
    }
    out.push_str("]\n");
    let dest = format!(
        "{}/{name}",
        std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")
    );
    std::fs::write(dest, out).expect("write the embedded file list");
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    embed(
        &root,
        "queries",
        &["sql"],
        |f| format!("queries/{f}"),
        "queries.rs",
    );
    embed(
        &root,
        "report-templates",
        &["typ", "json"],
        str::to_string,
        "templates.rs",
    );
}

//! Embeds the programmes' files: the shared `report-templates/*` (`common.typ`, not
//! the subfolders), and for each programme folder
//! `config/programmes/<id>/`, its `programme.toml`, `queries/<id>/*.sql` and
//! `report-templates/<id>/*`, in file-name order. Adding a mart, a template or a
//! programme is adding files; the Rust names none.

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

/// The entries of a `&[(&str, &str)]` of (label, text) for each file of `folder`.
fn entries(
    root: &str,
    folder: &str,
    extensions: &[&str],
    label: impl Fn(&str) -> String,
) -> String {
    println!("cargo::rerun-if-changed={folder}");
    let mut out = String::new();
    if !Path::new(&format!("{root}/{folder}")).is_dir() {
        return out;
    }
    for f in files(root, folder, extensions) {
        let _ = writeln!(
            out,
            "    (\"{}\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{folder}/{f}\"))),",
            label(&f)
        );
    }
    out
}

fn write(name: &str, text: &str) {
    let dest = format!(
        "{}/{name}",
        std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")
    );
    std::fs::write(dest, text).expect("write the embedded file list");
}

/// Writes `OUT_DIR/<name>`: a `&[(&str, &str)]` of (label, text) for each file.
fn embed(
    root: &str,
    folder: &str,
    extensions: &[&str],
    label: impl Fn(&str) -> String,
    name: &str,
) {
    write(
        name,
        &format!("&[\n{}]\n", entries(root, folder, extensions, label)),
    );
}

/// The programme folders of `config/programmes/`, sorted.
fn programmes(root: &str) -> Vec<String> {
    println!("cargo::rerun-if-changed=config/programmes");
    let mut ids: Vec<String> = std::fs::read_dir(format!("{root}/config/programmes"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Writes `OUT_DIR/programmes.rs`: a `&[(id, programme.toml, queries, templates)]`.
fn embed_programmes(root: &str) {
    let mut out = String::from("&[\n");
    for id in programmes(root) {
        let toml = format!("config/programmes/{id}/programme.toml");
        println!("cargo::rerun-if-changed={toml}");
        let queries = entries(root, &format!("queries/{id}"), &["sql"], |f| {
            format!("queries/{id}/{f}")
        });
        let templates = entries(
            root,
            &format!("report-templates/{id}"),
            &["typ", "json"],
            str::to_string,
        );
        let _ = writeln!(
            out,
            "  (\"{id}\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{toml}\")),\n  &[\n{queries}  ],\n  &[\n{templates}  ]),"
        );
    }
    out.push_str("]\n");
    write("programmes.rs", &out);
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    embed(
        &root,
        "report-templates",
        &["typ", "json"],
        str::to_string,
        "templates.rs",
    );
    embed_programmes(&root);
}

//! The `file` source: a local path, copied into the incoming folder while hashing.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{ExtractError, Fetched, io_err};

/// Copies `src` to `dest`, returning its hash and size.
pub fn copy(src: &Path, dest: &Path) -> Result<Fetched, ExtractError> {
    let input = File::open(src).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ExtractError::NotFound {
                location: src.display().to_string(),
            }
        } else {
            ExtractError::Io {
                path: src.display().to_string(),
                op: "open",
                error: e,
            }
        }
    })?;
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut writer =
        BufWriter::with_capacity(1 << 20, File::create(dest).map_err(io_err(dest, "create"))?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(io_err(src, "read"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n]).map_err(io_err(dest, "write"))?;
        bytes += n as u64;
    }
    writer.flush().map_err(io_err(dest, "write"))?;
    Ok(Fetched {
        location: src.display().to_string(),
        local: dest.to_path_buf(),
        sha256: hex::encode(hasher.finalize()),
        bytes,
        etag: None,
        last_modified: None,
    })
}

//! Bounds on what an imported file may ask of the process. Every reader
//! checks them before or while it allocates, and refuses the file with a
//! message naming the limit, so that a hostile or damaged file can neither
//! abort the process (deep nesting) nor exhaust its memory (huge declared
//! sizes, compression bombs).

/// Longest cell, in characters: Excel's own limit.
pub const MAX_CELL_CHARS: usize = 32_767;

/// Most cells in one table (rows × columns, counted as read, and the
/// dimension a workbook declares before anything is allocated). A campus
/// sheet has a few thousand; the published CSV files a few hundred thousand.
pub const MAX_CELLS: usize = 5_000_000;

/// Most bytes a ZIP archive (XLSX, ODS) may hold once decompressed, all
/// entries together.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;

/// Highest compression ratio accepted for an entry of more than
/// [`RATIO_FLOOR_BYTES`] once decompressed. Spreadsheet XML compresses
/// about 10 to 30 times; a compression bomb thousands of times.
pub const MAX_COMPRESSION_RATIO: u64 = 200;

/// Entries smaller than this are not held to [`MAX_COMPRESSION_RATIO`]
/// (a small, very regular file may compress a lot and costs nothing).
pub const RATIO_FLOOR_BYTES: u64 = 1024 * 1024;

/// Most entries in a ZIP archive.
pub const MAX_ZIP_ENTRIES: usize = 10_000;

/// Deepest nesting of XML elements accepted. Real LHÉO files nest about 10
/// levels; spreadsheet XML about 6.
pub const MAX_XML_DEPTH: usize = 64;

/// Longest text of one XML element (an LHÉO description), in bytes.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// Largest single posting (one JSON line or one element of the array).
pub const MAX_POSTING_BYTES: usize = 1024 * 1024;

/// A number with spaces between thousands, as French writes it.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(32_767), "32 767");
        assert_eq!(super::thousands(5_000_000), "5 000 000");
        assert_eq!(super::thousands(12), "12");
    }
}

//! Line numbers for a streaming XML reader.
//!
//! quick-xml reports byte offsets. To turn them into lines without keeping
//! the file in memory, the reader is wrapped: every byte quick-xml consumes
//! passes through [`LineCounter::consume`], which counts the newlines. The
//! offsets of the newlines not yet behind the current event are kept, so a
//! position inside the event being read (an error position) still maps to
//! its exact line; [`LineCounter::mark`] forgets the older ones, so memory
//! stays bounded by the size of one event.

use std::io::{self, BufRead, Read};

/// A `BufRead` that counts the newlines of the bytes consumed through it.
pub(super) struct LineCounter<R> {
    inner: R,
    /// Bytes consumed so far.
    consumed: u64,
    /// Newlines before the last mark.
    before_mark: u64,
    /// Offsets of the newlines consumed at or after the last mark, ascending.
    recent: Vec<u64>,
}

impl<R: BufRead> LineCounter<R> {
    /// Wraps a reader.
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            consumed: 0,
            before_mark: 0,
            recent: Vec::new(),
        }
    }

    /// Declares that no position before `pos` will be asked again.
    pub(super) fn mark(&mut self, pos: u64) {
        let k = self.recent.partition_point(|&o| o < pos);
        self.before_mark += k as u64;
        self.recent.drain(..k);
    }

    /// 1-based line of the byte at `pos` (at or after the last mark).
    pub(super) fn line_at(&self, pos: u64) -> u64 {
        1 + self.before_mark + self.recent.partition_point(|&o| o < pos) as u64
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // Going through fill_buf/consume keeps the count right whichever
        // interface the XML reader uses.
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if amt > 0 {
            // The buffer is not empty (amt bytes were taken from it), so this
            // fill_buf returns it again without any I/O and cannot fail.
            if let Ok(buf) = self.inner.fill_buf() {
                let start = self.consumed;
                self.recent.extend(
                    buf[..amt.min(buf.len())]
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b'\n')
                        .map(|(i, _)| start + i as u64),
                );
            }
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_across_chunks() {
        let data = b"a\nbb\n\nccc\nd";
        // A tiny buffer forces many fill_buf/consume rounds.
        let mut lc = LineCounter::new(io::BufReader::with_capacity(3, &data[..]));
        let mut all = Vec::new();
        lc.read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
        assert_eq!(lc.line_at(0), 1);
        assert_eq!(lc.line_at(2), 2);
        assert_eq!(lc.line_at(6), 4);
        assert_eq!(lc.line_at(10), 5);
        lc.mark(6);
        assert_eq!(lc.line_at(6), 4);
        assert_eq!(lc.line_at(10), 5);
    }
}

//! The HPACK decoder (RFC 7541 §6): one per connection direction.
//!
//! Fields are handed to a callback as they are decoded, as slices of the
//! header block (raw literals), of a table, or of the decoder's scratch
//! buffer (Huffman-decoded literals, names taken from the dynamic table for
//! a new entry): nothing is allocated per field once the scratch buffer
//! and the table have grown.
//!
//! Every input is checked: an index of 0 or past the tables, an integer
//! or string running past the block, a size update after a field or above
//! the size our SETTINGS allow, bad Huffman coding. Each is an
//! [`HpackError`], a COMPRESSION_ERROR for the connection. The header
//! list budget is charged per decoded field (name + value + 32, indexed
//! fields included): a block whose fields exceed it is still decoded to
//! the end (the table must stay in step with the peer's), but its fields
//! past the budget are not handed out, so an "HPACK bomb" (one large entry
//! referenced thousands of times) costs its encoded size, never its
//! decoded size.

use super::huffman::{self, HuffmanError};
use super::table::{DynTable, ENTRY_OVERHEAD, STATIC};

/// Why a header block is not valid HPACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpackError {
    Truncated,           // an integer or a string runs past the block
    IntegerOverflow,     // an integer longer than 5 continuation bytes
    ZeroIndex,           // index 0
    BadIndex,            // an index past the static and dynamic tables
    SizeUpdateMisplaced, // a size update after a field (or a third one)
    SizeUpdateTooLarge,  // above the size our SETTINGS allow
    Huffman(HuffmanError),
}

impl std::fmt::Display for HpackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HpackError::Truncated => "truncated integer or string",
            HpackError::IntegerOverflow => "integer too large",
            HpackError::ZeroIndex => "index 0",
            HpackError::BadIndex => "index past the tables",
            HpackError::SizeUpdateMisplaced => "table size update after a field",
            HpackError::SizeUpdateTooLarge => "table size update above the SETTINGS value",
            HpackError::Huffman(HuffmanError::Eos) => "EOS in a Huffman string",
            HpackError::Huffman(HuffmanError::Padding) => "invalid Huffman padding",
        })
    }
}

/// What a decoded block amounted to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    pub list_size: usize,  // RFC 9113 header list size of all its fields
    pub over_budget: bool, // fields past the budget were not handed out
}

/// Decoding state of one direction. Owned by the connection's mux.
#[derive(Debug)]
pub struct Decoder {
    table: DynTable,
    settings_max: usize, // SETTINGS_HEADER_TABLE_SIZE we announced: size updates above it are errors
    scratch: Vec<u8>,    // decoded literals of the current field
}

/// A string of the current field: in the block (or a static table), or a
/// range of the scratch buffer.
#[derive(Clone, Copy)]
enum Piece<'b> {
    Slice(&'b [u8]),
    Scratch(usize, usize),
}

impl<'b> Piece<'b> {
    fn of<'s>(self, scratch: &'s [u8]) -> &'s [u8]
    where
        'b: 's,
    {
        match self {
            Piece::Slice(s) => s,
            Piece::Scratch(a, b) => &scratch[a..b],
        }
    }
}

impl Decoder {
    /// A decoder whose table may grow to `max` bytes (our
    /// SETTINGS_HEADER_TABLE_SIZE; RFC 7541's initial size is 4096).
    pub fn new(max: usize) -> Decoder {
        Decoder { table: DynTable::new(max), settings_max: max, scratch: Vec::new() }
    }

    /// The dynamic table (for tests and display).
    pub fn table(&self) -> &DynTable {
        &self.table
    }

    /// Decodes one complete header block, calling `field(name, value)` for
    /// each field while the list stays within `budget` bytes.
    pub fn decode(
        &mut self,
        block: &[u8],
        budget: usize,
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<Decoded, HpackError> {
        let Decoder { table, settings_max, scratch } = self;
        let mut pos = 0;
        let mut fields_seen = false;
        let mut updates = 0;
        let mut out = Decoded::default();
        let mut emit = |name: &[u8], value: &[u8], out: &mut Decoded| {
            out.list_size += name.len() + value.len() + ENTRY_OVERHEAD;
            if out.list_size > budget {
                out.over_budget = true;
            } else {
                field(name, value);
            }
        };
        while let Some(&b) = block.get(pos) {
            if b & 0x80 != 0 {
                // Indexed field (§6.1).
                let index = integer(block, &mut pos, 7)?;
                let (name, value) = lookup(table, index)?;
                fields_seen = true;
                emit(name, value, &mut out);
            } else if b & 0xe0 == 0x20 {
                // Dynamic table size update (§6.3): only before the first field.
                updates += 1;
                if fields_seen || updates > 2 {
                    return Err(HpackError::SizeUpdateMisplaced);
                }
                let size = integer(block, &mut pos, 5)?;
                if size > *settings_max {
                    return Err(HpackError::SizeUpdateTooLarge);
                }
                table.set_max(size);
            } else {
                // Literal (§6.2): with incremental indexing (01), without
                // indexing (0000) or never indexed (0001).
                let indexing = b & 0x40 != 0;
                let index = integer(block, &mut pos, if indexing { 6 } else { 4 })?;
                scratch.clear();
                let name = match index {
                    0 => string(block, &mut pos, scratch)?,
                    i if i <= STATIC.len() => Piece::Slice(STATIC[i - 1].0),
                    i => {
                        // Copied: inserting the new entry may evict this one.
                        let (n, _) = lookup(table, i)?;
                        scratch.extend_from_slice(n);
                        Piece::Scratch(0, n.len())
                    }
                };
                let value = string(block, &mut pos, scratch)?;
                let (name, value) = (name.of(scratch), value.of(scratch));
                fields_seen = true;
                emit(name, value, &mut out);
                if indexing {
                    table.insert(name, value);
                }
            }
        }
        Ok(out)
    }
}

/// Entry `index` of the static or dynamic table.
fn lookup(table: &DynTable, index: usize) -> Result<(&[u8], &[u8]), HpackError> {
    match index {
        0 => Err(HpackError::ZeroIndex),
        i if i <= STATIC.len() => Ok(STATIC[i - 1]),
        i => table.get(i - STATIC.len() - 1).ok_or(HpackError::BadIndex),
    }
}

/// An integer with an N-bit prefix (§5.1) at `block[*pos]`.
fn integer(block: &[u8], pos: &mut usize, prefix: u32) -> Result<usize, HpackError> {
    let mask = (1usize << prefix) - 1;
    let first = *block.get(*pos).ok_or(HpackError::Truncated)? as usize & mask;
    *pos += 1;
    if first < mask {
        return Ok(first);
    }
    let mut value = mask;
    let mut shift = 0;
    loop {
        let b = *block.get(*pos).ok_or(HpackError::Truncated)?;
        *pos += 1;
        value += ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        if shift > 28 {
            return Err(HpackError::IntegerOverflow);
        }
    }
}

/// A string literal (§5.2): raw strings are borrowed from the block,
/// Huffman ones decoded into `scratch`.
fn string<'b>(block: &'b [u8], pos: &mut usize, scratch: &mut Vec<u8>) -> Result<Piece<'b>, HpackError> {
    let huffman = block.get(*pos).ok_or(HpackError::Truncated)? & 0x80 != 0;
    let len = integer(block, pos, 7)?;
    let end = pos.checked_add(len).filter(|&e| e <= block.len()).ok_or(HpackError::Truncated)?;
    let raw = &block[*pos..end];
    *pos = end;
    if !huffman {
        return Ok(Piece::Slice(raw));
    }
    let start = scratch.len();
    huffman::decode(raw, scratch).map_err(HpackError::Huffman)?;
    Ok(Piece::Scratch(start, scratch.len()))
}

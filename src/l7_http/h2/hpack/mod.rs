//! HPACK (RFC 7541), written here: the crates checked either panic on
//! one-byte inputs or Huffman-decode a browser's header block a thousand
//! times slower than this table-driven decoder (design notes §6).
//!
//! - [`huffman`]: table-driven Huffman decoding, and encoding;
//! - [`table`]: the static table and a dynamic table;
//! - [`Decoder`]: header blocks → fields, every malformed input an
//!   [`HpackError`] (COMPRESSION_ERROR), a header-list budget per block;
//! - [`Encoder`]: fields → header block (static table and literals only).

mod decode;
mod encode;
pub mod huffman;
mod huffman_code;
pub mod table;
#[cfg(test)]
mod tests;

pub use decode::{Decoded, Decoder, HpackError};
pub use encode::Encoder;

//! The configuration preprocessor, as HAProxy 2.6: `.if COND`, `.elif
//! COND`, `.else`, `.endif` (nested up to 100 deep, per file), and the
//! message directives `.diag`, `.notice`, `.warning`, `.alert "MSG"`.
//!
//! It sees every line after the lexer (so a lexing error inside a masked
//! block is still reported) and says whether the line goes on to the
//! section parser. Conditions are `cfg::cond`'s, the words after `.if`
//! joined by single spaces. A masked block's `.if` is not evaluated, so
//! its errors are not reported; a block closes only with its `.endif`.
//!
//! Errors in the structure (`.elif` without `.if`, `.else` twice, a bad
//! condition, an `.alert`, an unterminated block) abort the whole load as
//! HAProxy does: nothing after them is read. An unknown directive only
//! stops its file.

use super::cond::{self, CondEnv};
use super::diag::{Diag, Diagnostics, Severity};
use super::model::Loc;

/// HAProxy's `MAXNESTEDCONDS`.
const MAX_NESTED: usize = 100;

/// What happens to a line after the preprocessor saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Keep,     // an ordinary line in a taken block: parse it
    Consumed, // a directive, or a line in a masked block
    StopFile, // stop reading this file (the next files are still read)
    StopAll,  // stop reading this file, then stop loading (after the end-of-file check)
    Abort,    // stop loading at once
}

/// State of one open `.if` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    IfTake,   // `.if` true: lines kept
    IfDrop,   // `.if` false: lines dropped, a later branch may be taken
    IfSkip,   // inside a masked block: everything dropped up to `.endif`
    ElifTake, // an `.elif` was taken
    ElifDrop, // `.elif` false, a later branch may be taken
    ElifSkip, // an earlier branch was taken: dropped
    ElseTake,
    ElseDrop,
}

impl Block {
    /// Lines in this block are dropped.
    fn masks(self) -> bool {
        !matches!(self, Block::IfTake | Block::ElifTake | Block::ElseTake)
    }

    /// A branch of this block was already taken, or the block is masked
    /// as a whole: no later branch can be.
    fn settled(self) -> bool {
        matches!(self, Block::IfTake | Block::IfSkip | Block::ElifTake | Block::ElifSkip)
    }
}

/// The preprocessor of one file: its open blocks.
#[derive(Debug, Default)]
pub struct Preproc {
    blocks: Vec<Block>,
}

impl Preproc {
    /// Looks at one non-empty line's words.
    pub fn line(
        &mut self,
        words: &[String],
        loc: &Loc,
        env: &dyn CondEnv,
        diags: &mut Diagnostics,
    ) -> Outcome {
        let kw = words[0].as_str();
        let mut alert = |msg: String| diags.push(Diag::alert_global(format!("parsing [{loc}]: {msg}")));
        let extra = words.get(1).filter(|w| !w.is_empty());
        match kw {
            ".if" => {
                if self.blocks.len() + 1 >= MAX_NESTED {
                    alert(format!("too many nested '.if', max is {MAX_NESTED}."));
                    return Outcome::Abort;
                }
                if self.blocks.last().is_some_and(|b| b.masks()) {
                    self.blocks.push(Block::IfSkip);
                    return Outcome::Consumed;
                }
                match condition(".if", words, env) {
                    Ok(v) => self.blocks.push(if v { Block::IfTake } else { Block::IfDrop }),
                    Err(msg) => {
                        alert(msg);
                        return Outcome::Abort;
                    }
                }
                Outcome::Consumed
            }
            ".elif" => {
                let Some(&top) = self.blocks.last() else {
                    alert("lone '.elif' with no matching '.if'.".into());
                    return Outcome::Abort;
                };
                if matches!(top, Block::ElseTake | Block::ElseDrop) {
                    alert("'.elif' after '.else' is not permitted.".into());
                    return Outcome::Abort;
                }
                let next = if top.settled() {
                    Block::ElifSkip
                } else {
                    match condition(".elif", words, env) {
                        Ok(true) => Block::ElifTake,
                        Ok(false) => Block::ElifDrop,
                        Err(msg) => {
                            alert(msg);
                            return Outcome::Abort;
                        }
                    }
                };
                self.set_top(next);
                Outcome::Consumed
            }
            ".else" | ".endif" => {
                if let Some(x) = extra {
                    alert(format!("Unexpected argument '{x}' for '{kw}'."));
                    return Outcome::StopAll;
                }
                let Some(&top) = self.blocks.last() else {
                    alert(format!("lone '{kw}' with no matching '.if'."));
                    // HAProxy stops the file after a lone `.endif`, jumps out after a lone `.else`.
                    return if kw == ".endif" { Outcome::StopAll } else { Outcome::Abort };
                };
                if kw == ".endif" {
                    self.blocks.pop();
                } else if matches!(top, Block::ElseTake | Block::ElseDrop) {
                    alert("'.else' after '.else' is not permitted.".into());
                    return Outcome::Abort;
                } else {
                    self.set_top(if top.settled() { Block::ElseDrop } else { Block::ElseTake });
                }
                Outcome::Consumed
            }
            _ if self.blocks.last().is_some_and(|b| b.masks()) => Outcome::Consumed,
            ".alert" | ".warning" | ".notice" | ".diag" => {
                if let Some(x) = words.get(2).filter(|w| !w.is_empty()) {
                    alert(format!(
                        "Unexpected argument '{x}' for '{kw}'. Use quotes if the message should contain spaces."
                    ));
                    return Outcome::Consumed;
                }
                let msg = format!("parsing [{loc}]: '{}'.", words.get(1).map_or("", String::as_str));
                let severity = match kw {
                    ".alert" => Severity::Alert,
                    ".warning" => Severity::Warning,
                    ".notice" => Severity::Notice,
                    _ => Severity::Diag,
                };
                diags.push(Diag { severity, loc: None, msg });
                if severity == Severity::Alert { Outcome::Abort } else { Outcome::Consumed }
            }
            _ if kw.starts_with('.') => {
                alert(format!("unknown directive '{kw}'."));
                Outcome::StopFile
            }
            _ => Outcome::Keep,
        }
    }

    /// At the end of a file (`last` is its last line): an open block is an
    /// error that aborts the load.
    pub fn end_of_file(&self, last: &Loc, diags: &mut Diagnostics) -> Outcome {
        if self.blocks.is_empty() {
            return Outcome::Keep;
        }
        diags.push(Diag::alert_global(format!("parsing [{last}]: non-terminated '.if' block.")));
        Outcome::Abort
    }

    fn set_top(&mut self, b: Block) {
        if let Some(top) = self.blocks.last_mut() {
            *top = b;
        }
    }
}

/// Evaluates the condition of a `.if`/`.elif` line, or HAProxy's alert
/// text with the condition and a caret under the error.
fn condition(kw: &str, words: &[String], env: &dyn CondEnv) -> Result<bool, String> {
    let text = words[1..].join(" ");
    cond::eval(&text, env).map_err(|e| {
        let column = text.get(..e.pos).map_or(e.pos, |s| s.chars().count());
        format!(
            "{} in '{kw}' at position {}:\n  {kw} {text}\n  {}^",
            e.msg,
            column + 1,
            " ".repeat(column + kw.len() + 1)
        )
    })
}

#[cfg(test)]
mod tests;

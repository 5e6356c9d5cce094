//! The errors of the table commands, with HAProxy 2.6's texts (`Display`).

use std::fmt;

/// Which command an argument error is about (texts differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Show,
    Set,
    Clear,
}

/// What is wrong with one `data.<type> <op> <value>` filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterError {
    UnknownType,
    NotStored,
    BadOperator,
    BadValue,
}

/// A refused table command. `Display` is HAProxy's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CliError {
    NoSuchTable,
    KeyExpected,
    InvalidKey,
    KeyTypeUnsupported(Action),
    DataValueExpected,
    UnknownDataType,
    NotStored,
    InvalidStoreValue,
    ContentLookupShowClearOnly,
    Arguments(Action),
    Filter { entry: usize, error: FilterError },
    ExtraFilterData { word: usize, after: String },
    InUse,
    AllocFailed,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KEY_TYPES: &str = "of type other than ip, ipv6, string and integer is not supported";
        match self {
            CliError::NoSuchTable => f.write_str("No such table"),
            CliError::KeyExpected => f.write_str("Key value expected"),
            CliError::InvalidKey => f.write_str("Invalid key"),
            CliError::KeyTypeUnsupported(Action::Show) => write!(f, "Showing keys from tables {KEY_TYPES}"),
            CliError::KeyTypeUnsupported(Action::Clear) => write!(f, "Removing keys from tables {KEY_TYPES}"),
            CliError::KeyTypeUnsupported(Action::Set) => write!(f, "Inserting keys into tables {KEY_TYPES}"),
            CliError::DataValueExpected => f.write_str("\"data.<type>\" followed by a value expected"),
            CliError::UnknownDataType => f.write_str("Unknown data type"),
            CliError::NotStored => f.write_str("Data type not stored in this table"),
            CliError::InvalidStoreValue => f.write_str("Require a valid integer value to store"),
            CliError::ContentLookupShowClearOnly => {
                f.write_str("content-based lookup is only supported with the \"show\" and \"clear\" actions")
            }
            CliError::Arguments(Action::Show) => f.write_str(
                "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>",
            ),
            CliError::Arguments(Action::Clear) => f.write_str(
                "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>",
            ),
            CliError::Arguments(Action::Set) => {
                f.write_str("Required arguments: <table> key <key> [data.<store_data_type> <value>]*")
            }
            CliError::Filter { entry, error } => {
                write!(f, "Filter entry #{entry}: ")?;
                f.write_str(match error {
                    FilterError::UnknownType => "Unknown data type",
                    FilterError::NotStored => "Data type not stored in this table",
                    FilterError::BadOperator => "Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"",
                    FilterError::BadValue => "Require a valid integer value to compare against",
                })
            }
            CliError::ExtraFilterData { word, after } => {
                write!(f, "Detected extra data in filter, {word}th word of input, after '{after}'")
            }
            CliError::InUse => f.write_str("Entry currently in use, cannot remove"),
            CliError::AllocFailed => f.write_str("Unable to allocate a new entry"),
        }
    }
}

impl std::error::Error for CliError {}

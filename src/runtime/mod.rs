//! placeholder
pub fn run(_cfg: crate::cfg::Config, _pidfile: Option<&str>) -> Result<(), String> {
    Err("not yet".into())
}

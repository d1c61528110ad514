//! The README's configuration table lists every flag of the collector, with the environment
//! variable it reads, and names no flag that does not exist.

use clap::CommandFactory;
use std::collections::BTreeSet;
use tracewire_server::config::Cli;

#[test]
fn the_flag_table_lists_every_flag_and_its_variable() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let documented: BTreeSet<(String, String)> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let flag = cells.get(1)?.strip_prefix("`--")?.strip_suffix('`')?;
            let env = cells.get(2)?.trim_matches('`');
            Some((flag.to_owned(), env.to_owned()))
        })
        .collect();
    let command = Cli::command();
    let actual: BTreeSet<(String, String)> = command
        .get_arguments()
        .filter_map(|a| {
            let flag = a.get_long()?.to_owned();
            let env = a.get_env()?.to_string_lossy().into_owned();
            Some((flag, env))
        })
        .collect();
    let missing: Vec<_> = actual.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&actual).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "flags missing from the README table: {missing:?}; rows naming no flag: {stale:?}"
    );
}

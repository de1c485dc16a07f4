//! Timing with hyperfine: every command compared in one section runs in the same invocation, so
//! hyperfine interleaves nothing but runs them back to back under the same load, and the ratios
//! come from one run. Its `--export-json` gives every sample; we keep median, min, max.

use anyhow::{bail, Context, Result};
use std::path::Path;
use xshell::{cmd, Shell};

/// Shell quoting for the command lines hyperfine runs.
pub use crate::workspace::tools::shell_quote as quote;

/// One command to time: a display name and a shell line.
pub struct Command {
    pub name: String,
    pub line: String,
    /// Run before every timed run of this command (a cold build deletes its target dir).
    pub prepare: Option<String>,
}

impl Command {
    pub fn new(name: impl Into<String>, line: impl Into<String>) -> Command {
        Command {
            name: name.into(),
            line: line.into(),
            prepare: None,
        }
    }

    pub fn prepare(mut self, line: impl Into<String>) -> Command {
        self.prepare = Some(line.into());
        self
    }
}

pub struct Settings {
    pub runs: u32,
    pub warmup: u32,
    /// `-N`: start the commands without a shell (for millisecond-scale commands).
    pub no_shell: bool,
}

/// Seconds, as hyperfine reports them.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    pub name: String,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
    /// CPU seconds per run, user + system of the command and every process it waited for
    /// (hyperfine's means), when known.
    pub cpu: Option<f64>,
}

/// Runs hyperfine over `commands` in the shell's current directory; its progress goes to the
/// terminal, the numbers come back from the JSON export.
pub fn run(sh: &Shell, settings: &Settings, commands: &[Command]) -> Result<Vec<Timing>> {
    let json = std::env::temp_dir().join(format!("xtask-bench-{}.json", std::process::id()));
    let mut args: Vec<String> = vec![
        "--style".into(),
        "basic".into(),
        "--export-json".into(),
        json.display().to_string(),
        "--runs".into(),
        settings.runs.to_string(),
        "--warmup".into(),
        settings.warmup.to_string(),
    ];
    if settings.no_shell {
        args.push("-N".into());
    }
    // hyperfine takes either one --prepare for all commands or exactly one per command.
    if commands.iter().any(|c| c.prepare.is_some()) {
        for command in commands {
            args.push("--prepare".into());
            args.push(command.prepare.clone().unwrap_or_else(|| "true".into()));
        }
    }
    for command in commands {
        args.extend(["-n".into(), command.name.clone(), command.line.clone()]);
    }
    let names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
    cmd!(sh, "hyperfine {args...}")
        .run()
        .with_context(|| {
            format!(
                "hyperfine failed on {}: see its output above (install it with `apt-get install hyperfine`)",
                names.join(", ")
            )
        })?;
    let text = read_json(&json)?;
    let _ = std::fs::remove_file(&json);
    parse(&text)
}

/// `rounds` hyperfine runs of one sample per command, the commands one after the other in each
/// round, samples pooled per command: a slow drift of the machine's load then touches every
/// command alike, where one hyperfine run measures all samples of one command before the next.
pub fn run_interleaved(
    sh: &Shell,
    label: &str,
    (rounds, no_shell): (u32, bool),
    commands: &[Command],
) -> Result<Vec<Timing>> {
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); commands.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); commands.len()];
    let settings = Settings {
        runs: 1,
        warmup: 0,
        no_shell,
    };
    for round in 0..rounds {
        eprintln!("bench: {label} round {} of {rounds}", round + 1);
        for ((pooled, cpu), t) in samples
            .iter_mut()
            .zip(&mut cpu)
            .zip(run(sh, &settings, commands)?)
        {
            pooled.push(t.median);
            cpu.extend(t.cpu);
        }
    }
    commands
        .iter()
        .zip(samples.iter().zip(&cpu))
        .map(|(c, (s, cpu))| {
            let mut timing = Timing::from_samples(&c.name, s)?;
            timing.cpu = (cpu.len() == s.len()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64);
            Ok(timing)
        })
        .collect()
}

fn read_json(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading hyperfine's {}", path.display()))
}

/// The results of `hyperfine --export-json`, in command order.
pub fn parse(text: &str) -> Result<Vec<Timing>> {
    let value: serde_json::Value =
        serde_json::from_str(text).context("parsing hyperfine's JSON export")?;
    let Some(results) = value.get("results").and_then(|r| r.as_array()) else {
        bail!("hyperfine's JSON export has no `results` array: is hyperfine older than 1.9?");
    };
    results
        .iter()
        .map(|result| {
            let times: Vec<f64> = result
                .get("times")
                .and_then(|t| t.as_array())
                .map(|t| t.iter().filter_map(|x| x.as_f64()).collect())
                .unwrap_or_default();
            let name = result
                .get("command")
                .and_then(|c| c.as_str())
                .context("a hyperfine result without `command`")?;
            let mean = |key: &str| result.get(key).and_then(|v| v.as_f64());
            let mut timing = Timing::from_samples(name, &times)?;
            timing.cpu = mean("user").zip(mean("system")).map(|(u, s)| u + s);
            Ok(timing)
        })
        .collect()
}

impl Timing {
    /// Median (mean of the middle two for an even count), min and max of the samples.
    pub fn from_samples(name: &str, samples: &[f64]) -> Result<Timing> {
        if samples.is_empty() {
            bail!("no timing samples for `{name}`");
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Ok(Timing {
            name: name.to_owned(),
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
            cpu: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shortened from a real `hyperfine --export-json` (hyperfine 1.19).
    const REAL: &str = r#"{
  "results": [
    {
      "command": "gnu",
      "mean": 0.0011,
      "stddev": 0.0002,
      "median": 0.00105,
      "user": 0.0005,
      "system": 0.0004,
      "min": 0.0009,
      "max": 0.0015,
      "times": [0.0009, 0.0011, 0.0015, 0.001],
      "exit_codes": [0, 0, 0, 0]
    },
    {
      "command": "musl",
      "mean": 0.0007,
      "stddev": 0.0001,
      "median": 0.0007,
      "user": 0.0003,
      "system": 0.0002,
      "min": 0.0006,
      "max": 0.0008,
      "times": [0.0008, 0.0006, 0.0007],
      "exit_codes": [0, 0, 0]
    }
  ]
}"#;

    #[test]
    fn medians_and_ranges_come_from_the_samples() {
        let t = parse(REAL).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "gnu");
        assert!((t[0].median - 0.00105).abs() < 1e-12);
        assert_eq!((t[0].min, t[0].max, t[0].runs), (0.0009, 0.0015, 4));
        assert_eq!((t[1].median, t[1].runs), (0.0007, 3));
        assert!((t[0].cpu.unwrap() - 0.0009).abs() < 1e-12);
        assert!(parse("{}").is_err());
    }
}

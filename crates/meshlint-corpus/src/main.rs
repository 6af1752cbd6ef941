//! `meshlint-corpus`: generates realistic, deterministic Istio meshes as YAML for
//! meshlint's benchmarks (issue 7).
//!
//! This crate owns the benchmark corpus: its shape (≈16 resources and ≈5 KB
//! per namespace: Namespace, Services with named ports, Deployments, DestinationRules,
//! VirtualServices, PeerAuthentications, ServiceEntries, Sidecars, Gateways, plus an
//! `istio-system` namespace with the mesh-wide PeerAuthentication, the root Sidecar
//! and the ingress gateway), its determinism (a SplitMix64 stream per namespace, so
//! a given seed always gives the same bytes and namespace `i` is the same in every
//! corpus size), and the deliberate mistakes it plants (a few per thousand
//! resources; see [`gen::Mistake`]). It depends on nothing outside `std`.
//!
//! ```text
//! meshlint-corpus --namespaces N --out DIR [--seed S] [--single-file] [--force]
//!                 [--mistakes FILE]
//! ```
//!
//! Layout: `DIR/istio-system/*.yaml` and `DIR/ns-00042/{namespace,<service>,egress,gateway}.yaml`,
//! multi-document with `---`. With `--single-file`, or with `--namespaces 1` (the
//! pre-commit case), everything goes into one file, `DIR/mesh.yaml`. A summary
//! (namespaces, files, resources, bytes, kinds, mistakes by type, time) goes to
//! stderr, ending with one `key=value` line for scripts.

use meshlint_corpus::gen;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use gen::{Config, Stats, KINDS, MISTAKES};
use meshlint_corpus::shapes::Shape;

const USAGE: &str = "\
usage: meshlint-corpus --namespaces N --out DIR [--seed S] [--single-file] [--force] [--mistakes FILE]
                       [--shape gen-mesh|one-namespace|wildcards|busy-namespace]

  --namespaces N    application namespaces to generate (about 16 resources each)
  --out DIR         output directory; must be empty or absent unless --force
  --seed S          PRNG seed (default 42); same seed, same bytes
  --single-file     write every document into DIR/mesh.yaml
                    (implied by --namespaces 1: the small pre-commit case)
  --force           remove what an earlier run wrote in DIR first
  --mistakes FILE   also write the planted mistakes as TSV
                    (type, namespace, kind, name, file)
  --shape NAME      another mesh shape instead of the realistic corpus (see
                    meshlint_corpus::shapes): gen-mesh (gen_mesh.py's shape),
                    one-namespace (N workloads in one namespace), wildcards
                    (wildcard ServiceEntries and Sidecars), busy-namespace (N
                    applications with all their configuration and Gateways in
                    one namespace); no seed, no mistakes
";

struct Args {
    namespaces: usize,
    out: PathBuf,
    seed: u64,
    single_file: bool,
    force: bool,
    mistakes: Option<PathBuf>,
    shape: Option<Shape>,
}

fn parse_args(argv: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut namespaces = None;
    let mut out = None;
    let mut seed = 42u64;
    let mut single_file = false;
    let mut force = false;
    let mut mistakes = None;
    let mut shape = None;
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--namespaces" | "-n" => {
                let v = value("--namespaces")?;
                namespaces = Some(
                    v.parse::<usize>()
                        .map_err(|_| format!("--namespaces: not a number: {v}"))?,
                );
            }
            "--out" | "-o" => out = Some(PathBuf::from(value("--out")?)),
            "--seed" => {
                let v = value("--seed")?;
                seed = v
                    .parse::<u64>()
                    .map_err(|_| format!("--seed: not a number: {v}"))?;
            }
            "--mistakes" => mistakes = Some(PathBuf::from(value("--mistakes")?)),
            "--shape" => {
                let v = value("--shape")?;
                shape = Some(Shape::parse(&v).ok_or(format!("--shape: unknown shape: {v}"))?);
            }
            "--single-file" => single_file = true,
            "--force" => force = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    let namespaces = namespaces.ok_or("--namespaces is required")?;
    if namespaces == 0 {
        return Err("--namespaces must be at least 1".into());
    }
    let out = out.ok_or("--out is required")?;
    Ok(Args {
        namespaces,
        out,
        seed,
        single_file: single_file || namespaces == 1,
        force,
        mistakes,
        shape,
    })
}

/// Entries of `dir` that this tool writes: `ns-*`, `istio-system`, `mesh.yaml`.
fn is_ours(name: &str) -> bool {
    name.starts_with("ns-") || name == "istio-system" || name == "mesh.yaml"
        // the other shapes
        || name.starts_with("team-")
        || name.starts_with("edge-")
        || name == "big"
        || name == "legacy"
}

fn prepare_out(dir: &Path, force: bool) -> io::Result<()> {
    if dir.exists() {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if force && is_ours(&name) {
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    fs::remove_dir_all(&path)?;
                } else {
                    fs::remove_file(&path)?;
                }
            } else {
                return Err(io::Error::other(format!(
                    "{} is not empty ({name}); use --force to replace an earlier corpus",
                    dir.display()
                )));
            }
        }
    }
    fs::create_dir_all(dir)
}

fn write_corpus(args: &Args) -> io::Result<Stats> {
    if let Some(shape) = args.shape {
        return write_shape(shape, args);
    }
    let cfg = Config {
        seed: args.seed,
        namespaces: args.namespaces,
    };
    if args.single_file {
        let path = args.out.join("mesh.yaml");
        let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&path)?);
        let mut first = true;
        let stats = gen::generate(&cfg, |f| {
            if !first {
                w.write_all(b"---\n")?;
            }
            first = false;
            w.write_all(f.content.as_bytes())
        })?;
        w.flush()?;
        let mut stats = stats;
        // One file on disk; the separators between the original files count too.
        stats.bytes += 4 * (stats.files as u64).saturating_sub(1);
        stats.files = 1;
        for i in &mut stats.injected {
            i.file = "mesh.yaml".into();
        }
        Ok(stats)
    } else {
        let mut last_dir = String::new();
        gen::generate(&cfg, |f| {
            let dir = f.rel_path.split('/').next().unwrap_or_default();
            if dir != last_dir {
                fs::create_dir_all(args.out.join(dir))?;
                last_dir = dir.to_string();
            }
            fs::write(args.out.join(&f.rel_path), f.content.as_bytes())
        })
    }
}

/// Writes one of the other shapes (files as they come; no mistakes planted).
fn write_shape(shape: Shape, args: &Args) -> io::Result<Stats> {
    let mut stats = Stats {
        namespaces: args.namespaces,
        ..Stats::default()
    };
    for f in shape.files(args.namespaces) {
        let path = args.out.join(&f.rel_path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&path, f.content.as_bytes())?;
        stats.files += 1;
        stats.bytes += f.content.len() as u64;
        stats.resources += f.content.matches("\n---\n").count() + 1;
    }
    Ok(stats)
}

fn write_mistakes(path: &Path, stats: &Stats) -> io::Result<()> {
    let mut w = BufWriter::new(fs::File::create(path)?);
    writeln!(w, "type\tnamespace\tkind\tname\tfile")?;
    for i in &stats.injected {
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t{}",
            i.mistake.id(),
            i.namespace,
            i.kind.name(),
            i.name,
            i.file
        )?;
    }
    w.flush()
}

fn print_summary(args: &Args, stats: &Stats, secs: f64) {
    let mut e = io::stderr().lock();
    let mib = stats.bytes as f64 / (1024.0 * 1024.0);
    let _ = writeln!(
        e,
        "meshlint-corpus: seed {} -> {}",
        args.seed,
        args.out.display()
    );
    let _ = writeln!(e, "  namespaces  {} (+ istio-system)", stats.namespaces);
    let _ = writeln!(e, "  files       {}", stats.files);
    let _ = writeln!(e, "  resources   {}", stats.resources);
    let _ = writeln!(e, "  bytes       {} ({mib:.2} MiB)", stats.bytes);
    for k in KINDS {
        let _ = writeln!(e, "    {:<20}{}", k.name(), stats.by_kind[k as usize]);
    }
    let per_k = stats.injected.len() as f64 * 1000.0 / stats.resources.max(1) as f64;
    let _ = writeln!(
        e,
        "  mistakes    {} ({per_k:.1} per 1000 resources)",
        stats.injected.len()
    );
    for m in MISTAKES {
        let _ = writeln!(e, "    {:<36}{}", m.id(), stats.mistakes_of(m));
    }
    let _ = writeln!(e, "  time        {secs:.2} s");
    let _ = writeln!(
        e,
        "summary: namespaces={} files={} resources={} bytes={} mistakes={} seconds={secs:.3}",
        stats.namespaces,
        stats.files,
        stats.resources,
        stats.bytes,
        stats.injected.len()
    );
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("meshlint-corpus: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let result = prepare_out(&args.out, args.force)
        .and_then(|()| write_corpus(&args))
        .and_then(|stats| {
            if let Some(p) = &args.mistakes {
                write_mistakes(p, &stats)?;
            }
            Ok(stats)
        });
    match result {
        Ok(stats) => {
            print_summary(&args, &stats, start.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("meshlint-corpus: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_flags() {
        let a = args("--namespaces 100 --out /tmp/x --seed 7").unwrap();
        assert_eq!(a.namespaces, 100);
        assert_eq!(a.out, PathBuf::from("/tmp/x"));
        assert_eq!(a.seed, 7);
        assert!(!a.single_file);
        let a = args("--namespaces=3 --out=d --single-file").unwrap();
        assert_eq!(a.namespaces, 3);
        assert!(a.single_file);
    }

    #[test]
    fn one_namespace_means_single_file() {
        assert!(args("--namespaces 1 --out d").unwrap().single_file);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(args("--out d").is_err());
        assert!(args("--namespaces 0 --out d").is_err());
        assert!(args("--namespaces x --out d").is_err());
        assert!(args("--namespaces 2 --out d --bogus").is_err());
        assert!(args("--namespaces").is_err());
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("meshlint-corpus-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn writes_directory_layout_and_refuses_to_overwrite() {
        let out = tmpdir("dirs");
        let a = args(&format!("--namespaces 20 --out {}", out.display())).unwrap();
        prepare_out(&a.out, false).unwrap();
        let stats = write_corpus(&a).unwrap();
        let mut on_disk = 0u64;
        let mut files = 0;
        for d in fs::read_dir(&out).unwrap() {
            for f in fs::read_dir(d.unwrap().path()).unwrap() {
                on_disk += f.unwrap().metadata().unwrap().len();
                files += 1;
            }
        }
        assert_eq!(on_disk, stats.bytes);
        assert_eq!(files, stats.files);
        assert!(out.join("ns-00019/namespace.yaml").is_file());
        assert!(out.join("istio-system/mesh.yaml").is_file());
        assert!(prepare_out(&out, false).is_err());
        prepare_out(&out, true).unwrap();
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
        fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn single_file_holds_every_document() {
        let out = tmpdir("single");
        let a = args(&format!("--namespaces 1 --out {}", out.display())).unwrap();
        prepare_out(&a.out, false).unwrap();
        let stats = write_corpus(&a).unwrap();
        let text = fs::read_to_string(out.join("mesh.yaml")).unwrap();
        assert_eq!(text.len() as u64, stats.bytes);
        assert_eq!(text.split("---\n").count(), stats.resources);
        assert_eq!(stats.files, 1);
        fs::remove_dir_all(&out).unwrap();
    }
}

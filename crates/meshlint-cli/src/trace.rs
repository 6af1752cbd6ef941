//! `meshlint trace`: the flags, loading (the same as `check`: configuration file, mesh
//! config, `-n`, closed world) and exit codes; the walk itself is `meshlint-trace`.

use crate::pipeline::{load_mesh, CheckOptions, LoadedMesh};
use clap::{Args, ValueEnum};
use meshlint_trace::{render, trace, trace_access_log, Source, Trace, TraceRequest};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Human,
    Json,
}

/// `meshlint trace` flags.
#[derive(Args)]
pub struct TraceArgs {
    /// Files or directories to read; `-` reads standard input.
    pub paths: Vec<String>,
    /// Where the request starts: NAMESPACE[/WORKLOAD] (a Deployment, StatefulSet, … or Pod).
    #[arg(long, value_name = "NAMESPACE[/WORKLOAD]")]
    pub from: Option<String>,
    /// Enter through this Gateway's proxies instead: NAMESPACE/NAME.
    #[arg(long, value_name = "NAMESPACE/NAME", conflicts_with = "access_log")]
    pub gateway: Option<String>,
    /// The host the request is for, with an optional port.
    #[arg(
        long,
        value_name = "HOST[:PORT]",
        required_unless_present = "access_log"
    )]
    pub to: Option<String>,
    #[arg(long, default_value = "/")]
    pub path: String,
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A request header `name=value` (or `name: value`); repeatable.
    #[arg(long = "header", value_name = "K=V")]
    pub headers: Vec<String>,
    /// Trace the request an Envoy access-log line records (Istio text or JSON format).
    #[arg(long, value_name = "LINE", conflicts_with = "to")]
    pub access_log: Option<String>,
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: TraceFormat,
    /// An Istio MeshConfig file (or the `istio` ConfigMap carrying one).
    #[arg(long, value_name = "FILE")]
    pub mesh_config: Option<PathBuf>,
    /// The inputs are the whole mesh.
    #[arg(long, conflicts_with = "open_world")]
    pub closed_world: bool,
    /// The inputs are part of a mesh (the default).
    #[arg(long)]
    pub open_world: bool,
    /// The namespace objects without `metadata.namespace` are applied to.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Configuration file (default: `.meshlint.yaml` found upward).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("meshlint trace: {message}");
    ExitCode::from(2)
}

fn split_source(s: &str) -> Source {
    match s.split_once('/') {
        Some((ns, w)) if !w.is_empty() => Source::Workload {
            namespace: ns.to_string(),
            workload: Some(w.to_string()),
        },
        Some((ns, _)) => Source::Workload {
            namespace: ns.to_string(),
            workload: None,
        },
        None => Source::Workload {
            namespace: s.to_string(),
            workload: None,
        },
    }
}

/// `HOST[:PORT]` → host and port.
pub fn split_host_port(s: &str) -> Result<(String, Option<u32>), String> {
    let host = s.rsplit_once(':').map(|(h, _)| h).unwrap_or(s);
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("--to `{s}`: expected HOST[:PORT]"));
    }
    if host.contains('*') {
        return Err(format!(
            "--to `{s}`: a request goes to one host, not a wildcard; name a host it covers"
        ));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => p
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=65535).contains(n))
            .map(|n| (h.to_ascii_lowercase(), Some(n)))
            .ok_or_else(|| format!("`{p}` is not a port (1-65535)")),
        _ if s.is_empty() => Err("--to needs a host".to_string()),
        _ => Ok((s.to_ascii_lowercase(), None)),
    }
}

fn header(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .ok_or_else(|| format!("--header `{s}`: expected name=value"))?;
    Ok((k.trim().to_ascii_lowercase(), v.trim().to_string()))
}

/// Loads the inputs as `check` would.
fn load(args: &TraceArgs) -> Result<LoadedMesh, String> {
    let cfg = crate::cli::read_config_file(args.config.as_deref(), args.no_config)?;
    let file = cfg.as_ref().map(|c| c.config.clone()).unwrap_or_default();
    let resolve = |p: &str| {
        cfg.as_ref()
            .map(|c| c.resolve(p))
            .unwrap_or_else(|| PathBuf::from(p))
    };
    let closed_world = if args.closed_world {
        true
    } else if args.open_world {
        false
    } else {
        file.closed_world.unwrap_or(false)
    };
    let opts = CheckOptions {
        paths: args.paths.clone(),
        include: file.include.clone(),
        exclude: file.exclude.clone(),
        respect_gitignore: file.respect_gitignore.unwrap_or(true),
        mesh_config: args
            .mesh_config
            .clone()
            .or_else(|| file.mesh_config.as_deref().map(resolve)),
        // The configuration file's release and networks apply as they do to `check`: the
        // trace walks the same graph `check` judges.
        mesh_networks: file.mesh_networks.as_deref().map(resolve),
        istio_version: file.istio_version.clone(),
        closed_world,
        namespace: args.namespace.clone(),
        skip_files: cfg.iter().map(|c| c.path.clone()).collect(),
        ..CheckOptions::default()
    };
    load_mesh(&opts).map_err(|e| e.to_string())
}

/// Builds the trace the flags ask for (`Err`: exit code 2).
pub fn run_trace(args: &TraceArgs, loaded: &LoadedMesh) -> Result<Trace, String> {
    let g = &loaded.graph;
    if let Some(line) = &args.access_log {
        return trace_access_log(g, line, args.from.as_deref().map(split_source))
            .map_err(|e| e.to_string());
    }
    let to = args.to.as_deref().ok_or("--to HOST[:PORT] is required")?;
    let (host, port) = split_host_port(to)?;
    let source = match (&args.gateway, &args.from) {
        (Some(gw), _) => {
            let (ns, name) = gw
                .split_once('/')
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .ok_or_else(|| format!("--gateway `{gw}`: expected NAMESPACE/NAME"))?;
            Source::Gateway {
                namespace: ns.to_string(),
                name: name.to_string(),
            }
        }
        (None, Some(f)) => split_source(f),
        // `-n` names the namespace objects are applied to; it is the client's too.
        (None, None) => match &args.namespace {
            Some(ns) => split_source(ns),
            None => {
                return Err("give --from NAMESPACE[/WORKLOAD] or --gateway NAMESPACE/NAME".into())
            }
        },
    };
    let headers = args
        .headers
        .iter()
        .map(|h| header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let req = TraceRequest {
        source,
        host,
        port,
        path: args.path.clone(),
        method: args.method.to_ascii_uppercase(),
        headers,
        pin: None,
    };
    trace(g, &req).map_err(|e| e.to_string())
}

/// Runs `meshlint trace`; 0 delivered, 1 otherwise, 2 when no trace can be made.
pub fn run(args: TraceArgs) -> ExitCode {
    let mut loaded = match load(&args) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let broken = loaded
        .findings
        .iter()
        .filter(|f| f.severity == meshlint_diag::Severity::Error)
        .count();
    if broken > 0 {
        eprintln!(
            "meshlint trace: {broken} error(s) reading the inputs (see `meshlint check`); the trace may miss what they hold"
        );
    }
    let mut t = match run_trace(&args, &loaded) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let mut sources = std::mem::take(&mut loaded.sources);
    if args.format == TraceFormat::Human {
        // The trace may point anywhere in the inputs: every text it could show comes back.
        loaded.released.restore_all(&mut sources);
    }
    if let Some(path) = &args.mesh_config {
        if let Ok(text) = std::fs::read_to_string(path) {
            locate_mesh_config(&mut t, path, &text);
            let name: std::sync::Arc<str> = path.to_string_lossy().into();
            sources.insert(name.clone(), meshlint_diag::SourceFile::new(name, text));
        }
    }
    let text = match args.format {
        TraceFormat::Json => render::json(&t) + "\n",
        TraceFormat::Human => render::human(&t, &sources),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    ExitCode::from(t.exit_code())
}

/// Points the MeshConfig fields a trace names at the `--mesh-config` file: the line of
/// the field's last key after the line of its first (`outboundTrafficPolicy.mode`).
pub fn locate_mesh_config(t: &mut Trace, path: &std::path::Path, text: &str) {
    let find = |field: &str| -> (u32, u32) {
        let keys: Vec<&str> = field.split('.').collect();
        let mut from = 0usize;
        let mut found = (1, 1);
        for k in keys {
            let needle = format!("{k}:");
            for (i, line) in text.lines().enumerate().skip(from) {
                if let Some(col) = line.find(&needle) {
                    if line[..col].trim().is_empty() {
                        found = ((i + 1) as u32, (line[..col].chars().count() + 1) as u32);
                        from = i + 1;
                        break;
                    }
                }
            }
        }
        found
    };
    let file = path.to_string_lossy().to_string();
    let fix = |b: &mut meshlint_trace::DecidedBy| {
        if b.kind == "MeshConfig" && b.location.is_none() {
            let (line, column) = find(&b.field);
            b.location = Some(meshlint_trace::Position {
                file: file.clone(),
                line,
                column,
                location: None,
            });
        }
    };
    t.decided_by.iter_mut().for_each(fix);
    for h in t.hops.iter_mut().chain(t.notes.iter_mut()) {
        h.decided_by.iter_mut().for_each(fix);
    }
}

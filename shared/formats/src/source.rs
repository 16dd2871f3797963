//! Which reader a file gets, in one place for every runner: the `remit` CLI on a drop folder and
//! the ingest Lambda on the landing bucket route a file alike, from its key and first bytes
//! (`profile::Routing`), and open it alike.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use remit_domain::ingest::{PaymentReader, Routed};
use remit_domain::FileId;

use crate::profile::{Profile, ProfileError, Route, Routing};
use crate::{Format, ParseError, PaymentStream, SourceContext};

/// How many leading bytes routing and detection look at.
pub const HEAD_BYTES: usize = 8192;

/// Read buffer under every reader a router opens: large enough that reads of the source
/// (syscalls, S3 body chunks) do not dominate.
pub const READ_BUFFER: usize = 256 * 1024;

/// How a file's payments are read: detected from content, a native format, or a bank profile.
#[derive(Clone, Debug)]
pub enum Source {
    Detect,
    Native(Format),
    Profile(Box<Profile>),
}

impl Source {
    /// A payment stream over `reader`, and the native format it is read as (none for a profile).
    pub fn open<'a, R: BufRead + 'a>(
        &self,
        ctx: SourceContext,
        reader: R,
    ) -> Result<(Option<Format>, PaymentStream<'a>), ParseError> {
        match self {
            Source::Detect => crate::open(ctx, reader).map(|(f, s)| (Some(f), s)),
            Source::Native(fmt) => Ok((Some(*fmt), crate::open_as(*fmt, ctx, reader))),
            Source::Profile(p) => Ok((None, p.open(ctx, reader))),
        }
    }

    /// A short name for logs and manifests: `detect`, the native format (`cpa005`), or
    /// `profile:NAME`. Two routings that name the same reader give the same text.
    pub fn describe(&self) -> String {
        match self {
            Source::Detect => "detect".into(),
            Source::Native(f) => {
                serde_json::to_value(f).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            }
            Source::Profile(p) => format!("profile:{}", p.name()),
        }
    }
}

/// Routing rules with every profile they name compiled once, for a long-running reader (the
/// ingest Lambda routes every file without touching a disk).
#[derive(Clone, Debug, Default)]
pub struct SourceRouter {
    routing: Routing,
    profiles: BTreeMap<PathBuf, Profile>,
    /// Every file read this way whatever its key (`remit ingest --profile`).
    only: Option<Source>,
}

impl SourceRouter {
    /// A router that reads every file as `source` (a profile given on the command line).
    pub fn only(source: Source) -> Self {
        Self { only: Some(source), ..Self::default() }
    }

    /// Reads a routing file when one is given; content detection alone without.
    pub fn load_or_detect(routing_file: Option<&Path>) -> Result<Self, ProfileError> {
        routing_file.map_or_else(|| Ok(Self::default()), Self::load)
    }

    /// Reads a routing file and compiles the profiles it names (paths relative to its folder).
    pub fn load(routing_file: &Path) -> Result<Self, ProfileError> {
        let routing = Routing::load(routing_file)?;
        let mut profiles = BTreeMap::new();
        for p in routing.profile_paths() {
            profiles.insert(p.to_path_buf(), Profile::load(p)?);
        }
        Ok(Self { routing, profiles, only: None })
    }

    /// Routing text and the profile files it names, given as (file name, text) pairs (files
    /// built into a binary); profile names are taken relative to the routing file.
    pub fn from_texts(
        routing_name: &str,
        routing_text: &str,
        files: &[(&str, &str)],
    ) -> Result<Self, ProfileError> {
        let routing = Routing::from_toml(routing_name, Path::new(""), routing_text)?;
        let mut profiles = BTreeMap::new();
        for p in routing.profile_paths() {
            let name = p.to_string_lossy();
            let text = files.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).ok_or_else(|| {
                ProfileError::InFile {
                    file: routing_name.into(),
                    key: "route.profile".into(),
                    problem: format!("{name} is not among the built-in profiles"),
                }
            })?;
            profiles.insert(p.to_path_buf(), Profile::from_toml(&name, text)?);
        }
        Ok(Self { routing, profiles, only: None })
    }

    /// The source for a file landing at `key` whose first bytes are `head` (`HEAD_BYTES` are
    /// enough): the routing rules, then content detection.
    pub fn source(&self, key: &str, head: &[u8]) -> Source {
        if let Some(only) = &self.only {
            return only.clone();
        }
        self.of_route(self.routing.route(key, head))
    }

    /// The source when the key alone decides it (a fixed source, or prefix rules without
    /// content conditions): no first bytes need be read for routing.
    fn source_by_key(&self, key: &str) -> Option<Source> {
        match &self.only {
            Some(only) => Some(only.clone()),
            None => self.routing.route_by_key(key).map(|r| self.of_route(r)),
        }
    }

    fn of_route(&self, route: Route) -> Source {
        match route {
            Route::Profile(p) => match self.profiles.get(&p) {
                Some(profile) => Source::Profile(Box::new(profile.clone())),
                // Every routed profile is compiled when the router is built.
                None => Source::Detect,
            },
            Route::Native(f) => Source::Native(f),
            Route::Unknown => Source::Detect,
        }
    }
}

impl SourceRouter {
    /// Opens `bytes` as the file at `key`: the route is picked from the key and the first
    /// bytes of this same read (no separate read for the head). Returns the route's name
    /// (`Source::describe`) and the payment stream.
    pub fn open<'a, R: Read + 'a>(
        &self,
        key: &str,
        ctx: SourceContext,
        bytes: R,
    ) -> Result<(String, PaymentStream<'a>), ParseError> {
        let reader = BufReader::with_capacity(READ_BUFFER, bytes);
        // Read ahead for the head only when a rule looks at content (detection peeks itself).
        if let Some(source) = self.source_by_key(key) {
            let (_, stream) = source.open(ctx, reader)?;
            return Ok((source.describe(), stream));
        }
        let mut reader = crate::peek(reader, HEAD_BYTES).map_err(|e| ParseError::io(&ctx.file_name, e))?;
        let head = crate::head(&mut reader).map_err(|e| ParseError::io(&ctx.file_name, e))?;
        let source = self.source(key, head);
        let (_, stream) = source.open(ctx, reader)?;
        Ok((source.describe(), stream))
    }
}

impl PaymentReader for SourceRouter {
    type Error = ParseError;

    fn read<'a>(
        &'a self,
        route_key: &str,
        file: FileId,
        name: &str,
        bytes: Box<dyn Read + 'a>,
    ) -> Result<Routed<'a, ParseError>, ParseError> {
        let ctx = SourceContext { file_id: file, file_name: name.into() };
        let (route, payments) = self.open(route_key, ctx, bytes)?;
        Ok(Routed { route, payments })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTING: &str = r#"
[[route]]
prefix = "ca/cpa005/"
native = "cpa005"

[[route]]
prefix = "ca/eft80/"
profile = "ca-eft80.toml"
"#;

    fn eft80() -> &'static str {
        include_str!("../../../profiles/ca-eft80.toml")
    }

    #[test]
    fn routes_by_prefix_to_built_in_profiles_and_natives() {
        let r = SourceRouter::from_texts("routing.toml", ROUTING, &[("ca-eft80.toml", eft80())]).unwrap();
        assert_eq!(r.source("ca/cpa005/x.txt", b"whatever").describe(), "cpa005");
        assert!(r.source("ca/eft80/x.txt", b"H").describe().starts_with("profile:"));
        assert_eq!(r.source("eu/none.bin", b"nothing known").describe(), "detect");
    }

    #[test]
    fn a_missing_built_in_profile_is_refused_when_built() {
        let e = SourceRouter::from_texts("routing.toml", ROUTING, &[]).unwrap_err();
        assert!(e.to_string().contains("ca-eft80.toml"), "{e}");
    }

    #[test]
    fn the_shipped_routing_loads_with_every_profile() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles/routing.toml");
        let r = SourceRouter::load(&dir).unwrap();
        assert!(r
            .source("in/mis/x.csv", b"Credit Amount,Virtual Account No")
            .describe()
            .starts_with("profile:"));
    }
}

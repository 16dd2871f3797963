//! S3: landing-bucket objects named from event keys, streamed into the synchronous readers
//! without holding them in memory, hashed into a file identity, and moved under `processed/` or
//! `quarantine/` once ingested.

use std::io::{self, BufRead, BufReader, Read};
use std::pin::Pin;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::TaggingDirective;
use aws_sdk_s3::Client;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use remit_domain::ingest::FileMeta;
use remit_domain::ingest::FileReport;
use remit_domain::mask_card_numbers;
use remit_domain::ports::FileStatus;
use tokio::io::AsyncRead;
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;

use crate::sdk_message;

pub use remit_domain::ports::{Destination, ObjectRef, PROCESSED_PREFIX, QUARANTINE_PREFIX};
/// How many first bytes routing looks at (`remit_formats::profile::Routing::route`).
pub const HEAD_BYTES: u64 = 8192;
/// Read buffer over a body: large enough that `block_on` calls do not dominate.
const BUFFER: usize = 256 * 1024;
/// Times a body read that failed mid-way is resumed from where it stopped. A network blip must
/// not look like a broken file: an I/O error in the validation pass quarantines the file.
const RESUMES: u32 = 3;
/// Longest tag value S3 takes.
const TAG_VALUE_MAX: usize = 256;

/// Characters kept as they are in a CopySource and in tag sets: RFC 3986 unreserved, and `/`
/// between key segments (encoded in tags, where it is not a separator).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// An object from an S3 event's key, which arrives form-encoded: `+` is a space, `%XX` a
/// UTF-8 byte (`%2B` a literal plus). Set `version_id` and `size` from the event after.
pub fn object_from_event_key(bucket: &str, raw_key: &str) -> Result<ObjectRef, S3Error> {
    let spaced = raw_key.replace('+', " ");
    let bad = |reason: &str| S3Error::BadKey {
        object: mask_card_numbers(&format!("s3://{bucket}/{raw_key}")),
        reason: reason.to_string(),
    };
    let key = percent_decode_str(&spaced).decode_utf8().map_err(|_| bad("not UTF-8 once decoded"))?;
    if key.is_empty() {
        return Err(bad("empty"));
    }
    Ok(ObjectRef::new(bucket, key))
}

/// How S3 names an object.
pub trait S3Name {
    /// `s3://bucket/key`, card numbers masked: for messages.
    fn url(&self) -> String;
    /// The `x-amz-copy-source` naming this object (and version): percent-encoded, `/` kept.
    fn copy_source(&self) -> String;
}

impl S3Name for ObjectRef {
    fn url(&self) -> String {
        mask_card_numbers(&format!("s3://{}/{}", self.bucket, self.key))
    }

    fn copy_source(&self) -> String {
        let mut source =
            format!("{}/{}", utf8_percent_encode(&self.bucket, PATH), utf8_percent_encode(&self.key, PATH));
        if let Some(v) = &self.version_id {
            source.push_str("?versionId=");
            source.extend(utf8_percent_encode(v, UNRESERVED));
        }
        source
    }
}

/// An S3 operation on one object failed. Every variant names the object as `s3://bucket/key`,
/// card numbers masked.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The event's key does not decode (the key as the event wrote it).
    #[error("{object}: bad event key: {reason}")]
    BadKey { object: String, reason: String },
    /// No such key or version: moved or deleted already (an event delivered again after the
    /// move, say). A missing bucket is a `Request` error: that is a deployment fault.
    #[error("{object}: not found (moved or deleted already?)")]
    NotFound { object: String },
    /// 416: a range past the object's end (any range of an empty object).
    #[error("{object}: byte range {range} is past the end of the object")]
    RangeNotSatisfiable { object: String, range: String },
    /// A range whose last byte comes before its first.
    #[error("{object}: byte range {first}-{last} is empty")]
    BadRange { object: String, first: u64, last: u64 },
    /// S3 refused or could not be reached; `message` has the SDK's whole cause chain.
    #[error("{object}: {op} failed: {message}")]
    Request { object: String, op: &'static str, message: String },
    /// The body broke off mid-way and could not be resumed.
    #[error("{object}: reading failed: {message}")]
    Read { object: String, message: String },
}

impl S3Error {
    /// An SDK failure of `op` on `obj`, a missing object or version and 416 told apart.
    fn request<E>(
        op: &'static str,
        obj: &ObjectRef,
        range: Option<&str>,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let object = obj.url();
        // HEAD answers a bare `NotFound` (no body to name a code in).
        let gone = matches!(err.code(), None | Some("NoSuchKey" | "NoSuchVersion" | "NotFound"));
        match err.raw_response().map(|r| r.status().as_u16()) {
            Some(404) if gone => Self::NotFound { object },
            Some(416) => Self::RangeNotSatisfiable { object, range: range.unwrap_or_default().to_string() },
            _ => Self::Request { object, op, message: sdk_message(&err) },
        }
    }

    fn read(obj: &ObjectRef, err: &io::Error) -> Self {
        Self::Read { object: obj.url(), message: mask_card_numbers(&err.to_string()) }
    }
}

type HttpResponse = aws_sdk_s3::config::http::HttpResponse;

/// Where a finished ingest sends its object; `None` while the file is still processing.
pub fn destination_of(report: &FileReport) -> Option<Destination> {
    let file_id = report.file_id;
    match report.status {
        FileStatus::Completed => Some(Destination::Processed { file_id }),
        FileStatus::Quarantined => {
            Some(Destination::Quarantined { file_id, reason: report.reason.clone().unwrap_or_default() })
        }
        FileStatus::Processing => None,
    }
}

/// The moved object's tag set, URL-encoded as `x-amz-tagging` wants it: `remit-status`,
/// `remit-file-id` (the SHA-256 that names the file in the store) and `remit-reason`.
pub fn tagging(to: &Destination) -> String {
    let (status, file_id, reason) = match to {
        Destination::Processed { file_id } => ("processed", file_id, None),
        Destination::Quarantined { file_id, reason } => ("quarantined", file_id, Some(tag_value(reason))),
    };
    let mut tags = vec![("remit-status", status.to_string()), ("remit-file-id", file_id.to_hex())];
    tags.extend(reason.map(|r| ("remit-reason", r)));
    tags.iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, UNRESERVED)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A text as an S3 tag value: card numbers masked (the mask's `*` as `X`), characters S3 refuses
/// in tags dropped, blanks as one space, at most 256 characters.
pub fn tag_value(text: &str) -> String {
    let masked = mask_card_numbers(text).replace('*', "X");
    let mut out = String::new();
    for c in masked.chars() {
        if c.is_alphanumeric() || "_.:/=+-@".contains(c) {
            out.push(c);
        } else if c.is_whitespace() && !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.truncate(out.trim_end().len());
    if out.chars().count() > TAG_VALUE_MAX {
        out = out.chars().take(TAG_VALUE_MAX - 3).collect::<String>() + "...";
    }
    out
}

/// Moves an object under `to`'s prefix: CopyObject of exactly the version read (tags replaced by
/// `to`'s), then DeleteObject of the key, without a version id: the functions may delete
/// (`s3:DeleteObject`) but not erase versions (`s3:DeleteObjectVersion`, see
/// infra/template.yaml). In the versioned bucket that adds a delete marker and the version read
/// stays as noncurrent history (expired by the bucket's lifecycle). A newer upload under the key
/// is left alone: the delete is skipped unless the latest version is the one read (its own event
/// moves the newer one). Returns the new object. Objects over 5 GB need a multipart copy: S3
/// refuses them here.
pub async fn move_object(client: &Client, obj: &ObjectRef, to: &Destination) -> Result<ObjectRef, S3Error> {
    let key = format!("{}{}", to.prefix(), obj.key);
    let copied = client
        .copy_object()
        .bucket(&obj.bucket)
        .key(&key)
        .copy_source(obj.copy_source())
        .tagging_directive(TaggingDirective::Replace)
        .tagging(tagging(to))
        .send()
        .await
        .map_err(|e| S3Error::request("CopyObject", obj, None, e))?;
    let moved = ObjectRef {
        bucket: obj.bucket.clone(),
        key,
        version_id: copied.version_id().map(str::to_string),
        size: obj.size,
    };
    if let Some(read) = &obj.version_id {
        let latest = ObjectRef { version_id: None, ..obj.clone() };
        match client.head_object().bucket(&obj.bucket).key(&obj.key).send().await {
            Ok(head) if head.version_id() != Some(read.as_str()) => return Ok(moved),
            Ok(_) => {}
            // Deleted already (a delete marker): an earlier move of the same version.
            Err(e) => match S3Error::request("HeadObject", &latest, None, e) {
                S3Error::NotFound { .. } => return Ok(moved),
                other => return Err(other),
            },
        }
    }
    client
        .delete_object()
        .bucket(&obj.bucket)
        .key(&obj.key)
        .send()
        .await
        .map_err(|e| S3Error::request("DeleteObject", obj, None, e))?;
    Ok(moved)
}

/// How many keys a listing page holds at most (S3's own limit).
const LIST_PAGE: i32 = 1000;

/// GetObject of a small object whole (a manifest), `None` when there is none.
async fn get_small(client: &Client, obj: &ObjectRef) -> Result<Option<Vec<u8>>, S3Error> {
    let out = match get(client, obj, None, None).await {
        Ok(out) => out,
        Err(S3Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| S3Error::Read { object: obj.url(), message: mask_card_numbers(&e.to_string()) })?;
    Ok(Some(body.into_bytes().to_vec()))
}

/// PutObject with `If-None-Match: *`: true when written, false when an object was there
/// (412 PreconditionFailed). A 409 (another conditional put racing this one) is an error: retry.
async fn put_if_absent(client: &Client, obj: &ObjectRef, body: Vec<u8>) -> Result<bool, S3Error> {
    let sent = client
        .put_object()
        .bucket(&obj.bucket)
        .key(&obj.key)
        .if_none_match("*")
        .body(ByteStream::from(body))
        .send()
        .await;
    match sent {
        Ok(_) => Ok(true),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(412) => Ok(false),
            _ if e.code() == Some("PreconditionFailed") => Ok(false),
            _ => Err(S3Error::request("PutObject", obj, None, e)),
        },
    }
}

/// Every key under `prefix` (all pages), in S3's order (UTF-8 binary, so sorted).
async fn list_keys(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .max_keys(LIST_PAGE)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| S3Error::request("ListObjectsV2", &ObjectRef::new(bucket, prefix), None, e))?;
        keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => return Ok(keys),
        }
    }
}

/// GetObject of `obj` (its version when known), optionally a byte range and an ETag it must
/// still have.
async fn get(
    client: &Client,
    obj: &ObjectRef,
    range: Option<&str>,
    if_match: Option<&str>,
) -> Result<GetObjectOutput, S3Error> {
    client
        .get_object()
        .bucket(&obj.bucket)
        .key(&obj.key)
        .set_version_id(obj.version_id.clone())
        .set_range(range.map(str::to_string))
        .set_if_match(if_match.map(str::to_string))
        .send()
        .await
        .map_err(|e| S3Error::request("GetObject", obj, range, e))
}

/// A body read synchronously: each `read` blocks on the runtime for the next chunk.
fn bridge(body: ByteStream, handle: &Handle) -> Box<dyn Read + Send> {
    let body: Pin<Box<dyn AsyncRead + Send>> = Box::pin(body.into_async_read());
    Box::new(SyncIoBridge::new_with_handle(body, handle.clone()))
}

/// Opens the rest of a body from an offset (counted from where the first read started).
type Reopen = Box<dyn FnMut(u64) -> io::Result<Box<dyn Read + Send>> + Send>;

/// A body that picks up where it stopped when a read fails mid-way (a reset connection), up to
/// `RESUMES` times, by opening the rest again.
struct Resuming {
    current: Box<dyn Read + Send>,
    reopen: Reopen,
    pos: u64,
    resumes_left: u32,
}

impl Read for Resuming {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.current.read(buf) {
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if self.resumes_left > 0 => {
                    self.resumes_left -= 1;
                    tracing::warn!(offset = self.pos, error = %e, "object read failed: resuming");
                    match (self.reopen)(self.pos) {
                        Ok(rest) => self.current = rest,
                        Err(again) => {
                            tracing::warn!(offset = self.pos, error = %again, "object read cannot resume");
                            return Err(e);
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// An object's body as a synchronous `Read + BufRead` (what `remit_formats` readers take),
/// streamed: memory stays at one buffer whatever the object's size. Blocks on the runtime for
/// each chunk: use it on a blocking thread (`spawn_blocking`), never inside an async task.
pub struct ObjectReader {
    inner: BufReader<Resuming>,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl BufRead for ObjectReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}

/// The landing bucket for the synchronous pipeline: an S3 client and the runtime it runs on.
/// Every method blocks on that runtime: call them from `spawn_blocking` or a plain thread with
/// the runtime's handle, never from inside an async task (Tokio panics on `block_on` there).
#[derive(Clone, Debug)]
pub struct S3Files {
    client: Client,
    handle: Handle,
}

impl S3Files {
    /// Wraps a client (`crate::s3_client`) and the handle of the runtime it was built on.
    pub fn new(client: Client, handle: Handle) -> Self {
        Self { client, handle }
    }

    /// The client, for async callers (`move_object`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Streams the whole object.
    pub fn reader(&self, obj: &ObjectRef) -> Result<ObjectReader, S3Error> {
        self.open(obj, 0, None)
    }

    /// Streams bytes `first..=last` of the object (HTTP `Range: bytes=first-last`), for work
    /// split across readers; the range is cut at the object's end.
    pub fn range_reader(&self, obj: &ObjectRef, first: u64, last: u64) -> Result<ObjectReader, S3Error> {
        if last < first {
            return Err(S3Error::BadRange { object: obj.url(), first, last });
        }
        self.open(obj, first, Some(last))
    }

    /// The first `n` bytes (fewer when the object is shorter), as routing looks at them.
    pub fn head(&self, obj: &ObjectRef, n: u64) -> Result<Vec<u8>, S3Error> {
        let reader = match self.range_reader(obj, 0, n.saturating_sub(1)) {
            Ok(r) => r,
            Err(S3Error::RangeNotSatisfiable { .. }) => return Ok(Vec::new()), // empty object
            Err(e) => return Err(e),
        };
        let mut head = Vec::with_capacity(n.min(HEAD_BYTES) as usize);
        reader.take(n).read_to_end(&mut head).map_err(|e| S3Error::read(obj, &e))?;
        Ok(head)
    }

    /// The file's identity: the SHA-256 of its bytes, streamed once; its size as read; its name
    /// the object key (what errors, the store and the daily report show).
    pub fn file_meta(&self, obj: &ObjectRef) -> Result<FileMeta, S3Error> {
        FileMeta::read_at_most(obj.key.clone(), self.reader(obj)?, remit_domain::ingest::MAX_FILE_BYTES)
            .map_err(|e| S3Error::read(obj, &e))
    }

    /// `move_object` from a blocking thread.
    pub fn move_object(&self, obj: &ObjectRef, to: &Destination) -> Result<ObjectRef, S3Error> {
        self.handle.block_on(move_object(&self.client, obj, to))
    }

    /// A small object's bytes, read whole (manifests, chunk summaries); `None` when absent.
    pub fn get_small(&self, obj: &ObjectRef) -> Result<Option<Vec<u8>>, S3Error> {
        self.handle.block_on(get_small(&self.client, obj))
    }

    /// Writes a small object unless one exists (`If-None-Match: *`); true when this call wrote it.
    pub fn put_if_absent(&self, obj: &ObjectRef, body: &[u8]) -> Result<bool, S3Error> {
        self.handle.block_on(put_if_absent(&self.client, obj, body.to_vec()))
    }

    /// Every key under `prefix` in `bucket`, sorted, all pages.
    pub fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
        self.handle.block_on(list_keys(&self.client, bucket, prefix))
    }

    /// GetObject from `first` (to `last` when given), the body resumable: later ranges ask for
    /// the same version, or when the bucket keeps none, the same ETag.
    fn open(&self, obj: &ObjectRef, first: u64, last: Option<u64>) -> Result<ObjectReader, S3Error> {
        let range = move |from: u64| match last {
            Some(last) => Some(format!("bytes={from}-{last}")),
            None if from > 0 => Some(format!("bytes={from}-")),
            None => None,
        };
        let out = self.handle.block_on(get(&self.client, obj, range(first).as_deref(), None))?;
        let pin = if obj.version_id.is_none() { out.e_tag().map(str::to_string) } else { None };
        let current = bridge(out.body, &self.handle);
        let (client, handle, obj) = (self.client.clone(), self.handle.clone(), obj.clone());
        let reopen: Reopen = Box::new(move |pos| {
            let from = first + pos;
            if last.is_some_and(|last| from > last) {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "nothing left to resume"));
            }
            let rest = handle
                .block_on(get(&client, &obj, range(from).as_deref(), pin.as_deref()))
                .map_err(io::Error::other)?;
            Ok(bridge(rest.body, &handle))
        });
        let body = Resuming { current, reopen, pos: 0, resumes_left: RESUMES };
        Ok(ObjectReader { inner: BufReader::with_capacity(BUFFER, body) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> String {
        object_from_event_key("landing", raw).unwrap().key
    }

    #[test]
    fn event_keys_are_form_decoded() {
        assert_eq!(key("samples/ca/Relev%C3%A9+d%C3%A9c.txt"), "samples/ca/Relevé déc.txt");
        assert_eq!(key("ca/a%2Bb+c.txt"), "ca/a+b c.txt", "%2B is a literal plus, + a space");
        assert_eq!(key("ca/100%25.txt"), "ca/100%.txt");
        assert_eq!(key("in/plain.csv"), "in/plain.csv");
        // Not an escape: kept as written rather than refused.
        assert_eq!(key("eu/50%zz.xml"), "eu/50%zz.xml");
    }

    #[test]
    fn bad_event_keys_are_errors_naming_bucket_and_masked_key() {
        let e = object_from_event_key("landing", "ca/%FF%FE-378282246310005").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("s3://landing/ca/%FF%FE-"), "{text}");
        assert!(!text.contains("378282246310005"), "{text}");
        assert!(object_from_event_key("landing", "").is_err());
    }

    #[test]
    fn copy_source_is_percent_encoded_but_slashes() {
        let mut obj = ObjectRef::new("landing", "samples/ca/Relevé déc+1.txt");
        assert_eq!(obj.copy_source(), "landing/samples/ca/Relev%C3%A9%20d%C3%A9c%2B1.txt");
        obj.version_id = Some("3/L4kqtJl.cHBa+".into());
        assert!(obj.copy_source().ends_with("?versionId=3%2FL4kqtJl.cHBa%2B"), "{}", obj.copy_source());
    }

    #[test]
    fn disposed_objects_are_recognised() {
        assert!(ObjectRef::new("b", "quarantine/ca/x.txt").is_disposed());
        assert!(ObjectRef::new("b", "processed/ca/x.txt").is_disposed());
        assert!(!ObjectRef::new("b", "ca/processed/x.txt").is_disposed());
    }

    #[test]
    fn quarantine_tags_carry_a_masked_short_reason() {
        let reason =
            format!("record 3, field \"reference\": card 3782 822463 10005 (bad) {}", "x".repeat(400));
        let d = Destination::Quarantined { file_id: remit_domain::FileId::of_bytes(b"abc"), reason };
        let tagging = tagging(&d);
        assert!(tagging.starts_with("remit-status=quarantined&remit-file-id=ba7816bf"), "{tagging}");
        let reason = tagging.split("remit-reason=").nth(1).unwrap();
        let decoded = percent_decode_str(reason).decode_utf8().unwrap();
        assert!(decoded.starts_with("record 3 field reference: card XXXXXXXXXXX0005 bad xxx"), "{decoded}");
        assert_eq!(decoded.chars().count(), TAG_VALUE_MAX);
        assert!(!tagging.contains("822463"));
        assert_eq!(tag_value("Relevé déc. @ 10:00"), "Relevé déc. @ 10:00");
    }

    /// A body that fails once after `fail_at` bytes, as a reset connection does.
    struct Flaky {
        data: Vec<u8>,
        pos: usize,
        fail_at: Option<usize>,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.fail_at.is_some_and(|f| self.pos >= f) {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            let end = self.data.len().min(self.pos + buf.len().min(7));
            let end = self.fail_at.map_or(end, |f| end.min(f));
            let n = end - self.pos;
            buf[..n].copy_from_slice(&self.data[self.pos..end]);
            self.pos = end;
            Ok(n)
        }
    }

    #[test]
    fn a_body_that_fails_mid_way_resumes_from_where_it_stopped() {
        let data: Vec<u8> = (0..100u8).collect();
        let whole = data.clone();
        let opened = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = opened.clone();
        let reopen: Reopen = Box::new(move |pos| {
            log.lock().unwrap().push(pos);
            let data = whole[pos as usize..].to_vec();
            Ok(Box::new(Flaky { data, pos: 0, fail_at: None }) as Box<dyn Read + Send>)
        });
        let current = Box::new(Flaky { data: data.clone(), pos: 0, fail_at: Some(40) });
        let mut r = Resuming { current, reopen, pos: 0, resumes_left: 1 };
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(*opened.lock().unwrap(), vec![40]);

        // Out of resumes: the error comes through.
        let reopen: Reopen = Box::new(|_| Err(io::Error::other("gone")));
        let current = Box::new(Flaky { data: data.clone(), pos: 0, fail_at: Some(10) });
        let mut r = Resuming { current, reopen, pos: 0, resumes_left: 2 };
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
    }
}

//! SigV4 verification for `--require-sigv4`: recomputes the signature of a received
//! request with the aws-sigv4 crate and compares it in constant time.
//!
//! Only the headers the client listed in `SignedHeaders` are fed to the signer, the
//! region comes from the credential scope and the service is always `rekognition`, so a
//! request signed for another service or with another secret fails.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use hyper::http::request::Parts;

use super::wire::api_error;
use crate::api::{ApiError, ErrorCode};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "rekognition";
/// Headers every signature must cover.
const REQUIRED_SIGNED_HEADERS: [&str; 3] = ["host", "x-amz-date", "x-amz-target"];
/// Largest clock difference accepted between the signature time and now.
const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// The one access key and secret the server accepts.
#[derive(Clone)]
pub(super) struct Verifier {
    access_key: String,
    secret: String,
    /// The server's region: the only one a credential scope may name.
    region: String,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Verifier").field("access_key", &self.access_key).finish_non_exhaustive()
    }
}

/// The parts of an `Authorization` header.
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn incomplete(detail: &str) -> ApiError {
    api_error(ErrorCode::IncompleteSignatureException, detail)
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| incomplete("Unsupported or missing signing algorithm; expected AWS4-HMAC-SHA256."))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope[..] else {
        return Err(incomplete("Credential should be scoped to a valid region, service and 'aws4_request'."));
    };
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: signed.split(';').filter(|h| !h.is_empty()).collect(),
        signature,
    })
}

/// AWS's words for a signing time more than 5 minutes off (contract §8, observed:
/// `Signature expired: 20190430T075732Z is now earlier than 20190430T105409Z
/// (20190430T105909Z - 5 min.)`).
fn skew_message(amz_date: &str, signed: SystemTime, now: SystemTime) -> String {
    if signed <= now {
        format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
            format_amz_date(now.checked_sub(MAX_SKEW).unwrap_or(UNIX_EPOCH)),
            format_amz_date(now)
        )
    } else {
        format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
            format_amz_date(now + MAX_SKEW),
            format_amz_date(now)
        )
    }
}

/// Formats `YYYYMMDDTHHMMSSZ` (UTC), as SigV4's `X-Amz-Date`.
pub fn format_amz_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (i64::try_from(secs / 86_400).unwrap_or(0), secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Parses `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Equality that takes the same time wherever the strings differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Verifier {
    pub(super) fn new(access_key: String, secret: String, region: String) -> Verifier {
        Verifier { access_key, secret, region }
    }

    /// Checks the request's SigV4 signature over `body`, as of `now`.
    pub(super) fn verify(&self, parts: &Parts, body: &[u8], now: SystemTime) -> Result<(), ApiError> {
        let Some(header) = parts.headers.get(hyper::header::AUTHORIZATION) else {
            return Err(api_error(
                ErrorCode::MissingAuthenticationTokenException,
                "Missing Authentication Token",
            ));
        };
        let header = header.to_str().map_err(|_| incomplete("The Authorization header is not ASCII."))?;
        let auth = parse_authorization(header)?;
        if auth.access_key != self.access_key {
            return Err(api_error(
                ErrorCode::UnrecognizedClientException,
                "The security token included in the request is invalid.",
            ));
        }
        let amz_date = parts.headers.get("x-amz-date").and_then(|v| v.to_str().ok()).ok_or_else(|| {
            incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        })?;
        let time = parse_amz_date(amz_date)
            .ok_or_else(|| incomplete("X-Amz-Date is not a valid ISO 8601 basic date."))?;
        let skew = now.duration_since(time).or_else(|e| Ok::<_, ()>(e.duration())).unwrap_or_default();
        if skew > MAX_SKEW {
            return Err(api_error(ErrorCode::InvalidSignatureException, skew_message(amz_date, time, now)));
        }
        // As AWS: the scope names this server's region, and the signature covers the
        // host, the date and the operation (an unsigned X-Amz-Target could be rewritten
        // to turn a captured DescribeCollection into a DeleteCollection).
        if auth.region != self.region {
            return Err(api_error(
                ErrorCode::InvalidSignatureException,
                format!("Credential should be scoped to a valid region, not '{}'.", printable(auth.region)),
            ));
        }
        for required in REQUIRED_SIGNED_HEADERS {
            if !auth.signed_headers.iter().any(|h| h.eq_ignore_ascii_case(required)) {
                return Err(incomplete(&format!(
                    "'{required}' must be a 'SignedHeader' in the AWS Authorization."
                )));
            }
        }
        let mismatch = || api_error(ErrorCode::InvalidSignatureException, invalid_signature_message());
        if auth.service != SERVICE || !amz_date.starts_with(auth.date) {
            return Err(mismatch());
        }
        let expected = self.signature(parts, body, &auth, time).ok_or_else(mismatch)?;
        if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
            Ok(())
        } else {
            Err(mismatch())
        }
    }

    /// The signature this server computes for the request, if it can be computed.
    fn signature(
        &self,
        parts: &Parts,
        body: &[u8],
        auth: &Authorization<'_>,
        time: SystemTime,
    ) -> Option<String> {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        for name in &auth.signed_headers {
            for value in parts.headers.get_all(*name) {
                headers.push((name, value.to_str().ok()?));
            }
        }
        let host =
            parts.headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut uri = format!("http://{host}{path}");
        if uri.parse::<hyper::Uri>().ok().and_then(|u| u.authority().cloned()).is_none() {
            uri = format!("http://localhost{path}");
            uri.parse::<hyper::Uri>().ok()?;
        }
        let identity = Credentials::new(&self.access_key, &self.secret, None, None, "rekcon-serve").into();
        let mut settings = SigningSettings::default();
        // Sign exactly what the client listed, whatever the SDK's defaults exclude.
        settings.excluded_headers = None;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(auth.region)
            .name(SERVICE)
            .time(time)
            .settings(settings)
            .build()
            .ok()?
            .into();
        let method = parts.method.as_str();
        let request =
            SignableRequest::new(method, uri, headers.into_iter(), SignableBody::Bytes(body)).ok()?;
        let output = sign(request, &params).ok()?;
        Some(output.signature().to_string())
    }
}

/// `text` with anything but printable ASCII replaced, at most 64 characters, for messages.
fn printable(text: &str) -> String {
    text.chars().take(64).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}

/// AWS's text for a signature that does not match.
fn invalid_signature_message() -> &'static str {
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_messages_read_as_aws_words_them() {
        let now = parse_amz_date("20190430T105909Z").expect("a date");
        let signed = parse_amz_date("20190430T075732Z").expect("a date");
        assert_eq!(
            skew_message("20190430T075732Z", signed, now),
            "Signature expired: 20190430T075732Z is now earlier than 20190430T105409Z (20190430T105909Z - 5 min.)"
        );
        let later = parse_amz_date("20190430T120000Z").expect("a date");
        assert_eq!(
            skew_message("20190430T120000Z", later, now),
            "Signature not yet current: 20190430T120000Z is still later than 20190430T110409Z (20190430T105909Z + 5 min.)"
        );
        for date in ["20000229T235959Z", "19700101T000000Z", "20261201T114500Z"] {
            assert_eq!(parse_amz_date(date).map(format_amz_date).as_deref(), Some(date));
        }
    }

    #[test]
    fn amz_dates_parse_to_epoch() {
        let t = parse_amz_date("20240229T123456Z").expect("valid");
        assert_eq!(t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).ok(), Some(1_709_210_096));
        for bad in ["", "20240229 123456Z", "20241329T000000Z", "2024022XT000000Z", "20240229T123456"] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn authorization_headers_parse_and_reject_garbage() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AK/20240101/us-west-2/rekognition/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .expect("parses");
        assert_eq!(
            (a.access_key, a.region, a.service, a.signature),
            ("AK", "us-west-2", "rekognition", "abc")
        );
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        for bad in [
            "Basic x",
            "AWS4-HMAC-SHA256 Credential=AK/x, SignedHeaders=host, Signature=1",
            "AWS4-HMAC-SHA256 ",
        ] {
            assert_eq!(
                parse_authorization(bad).err().map(|e| e.code),
                Some(ErrorCode::IncompleteSignatureException)
            );
        }
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

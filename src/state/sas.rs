//! A service shared access signature for one blob container, signed with the storage
//! account's key: how aksform reaches the state with a shared key (`AZURE_STORAGE_KEY`), as
//! Azurite and older setups need, without sending the key itself. The string to sign is the
//! one the Blob service documents for a service SAS of version 2020-12-06 and later.

use std::time::{Duration, SystemTime};

use azure_core::credentials::Secret;

use super::backend::rfc3339_utc;

/// The SAS version signed (`sv`), one every Blob service and Azurite accept.
pub const SIGNED_VERSION: &str = "2022-11-02";

/// What a SAS allows on the container: read, add (append to the journal), create, write (a
/// lease is a write) and delete (the journal, once folded in).
pub const READ_WRITE: &str = "racwd";

/// Why a SAS cannot be made.
#[derive(Debug, thiserror::Error)]
#[error("the storage account key in AZURE_STORAGE_KEY cannot sign a request: {0}")]
pub struct SasError(String);

/// The query string (`sv=...&sig=...`, no leading `?`) of a container SAS that allows
/// `permissions` until `valid_for` from `now`.
pub fn container_sas(
    account: &str,
    container: &str,
    key: &Secret,
    permissions: &str,
    now: SystemTime,
    valid_for: Duration,
) -> Result<String, SasError> {
    // A few minutes of clock skew between this machine and the service are allowed for.
    let start = rfc3339_utc(now.checked_sub(Duration::from_secs(300)).unwrap_or(now));
    let expiry = rfc3339_utc(now + valid_for);
    let resource = format!("/blob/{account}/{container}");
    let signed = string_to_sign(permissions, &start, &expiry, &resource);
    let signature = azure_core::hmac::hmac_sha256(&signed, key).map_err(|e| SasError(e.to_string()))?;
    Ok(url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", SIGNED_VERSION)
        .append_pair("sr", "c")
        .append_pair("sp", permissions)
        .append_pair("st", &start)
        .append_pair("se", &expiry)
        .append_pair("sig", &signature)
        .finish())
}

/// The fields of a service SAS in the order the service signs them: permissions, start,
/// expiry, resource, identifier, IP range, protocol, version, resource type, snapshot time,
/// encryption scope, and the five response-header overrides.
fn string_to_sign(permissions: &str, start: &str, expiry: &str, resource: &str) -> String {
    let fields = [permissions, start, expiry, resource, "", "", "", SIGNED_VERSION, "c", "", "", "", "", "", "", ""];
    fields.join("\n")
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    /// Azurite's documented development account key.
    const DEV_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    #[test]
    fn signs_the_documented_fields_in_order() {
        let text = string_to_sign("rcw", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z", "/blob/acct/state");
        assert_eq!(
            text,
            "rcw\n2026-12-02T10:00:00Z\n2026-12-02T11:00:00Z\n/blob/acct/state\n\n\n\n2022-11-02\nc\n\n\n\n\n\n\n"
        );
    }

    #[test]
    fn the_query_names_the_container_permissions_and_times() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_600_931);
        let query =
            container_sas("devstoreaccount1", "state", &Secret::new(DEV_KEY), "r", now, Duration::from_secs(3600))
                .unwrap();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("sv"), Some(SIGNED_VERSION));
        assert_eq!(get("sr"), Some("c"));
        assert_eq!(get("sp"), Some("r"));
        assert_eq!(get("st"), Some("2026-11-25T09:57:11Z"));
        assert_eq!(get("se"), Some("2026-11-25T11:02:11Z"));
        // HMAC-SHA256 is 32 bytes: 44 characters of base64.
        assert_eq!(get("sig").map(str::len), Some(44));
    }

    #[test]
    fn a_key_that_is_not_base64_is_an_error_not_a_panic() {
        let error =
            container_sas("a", "c", &Secret::new("not base64!"), "r", SystemTime::now(), Duration::from_secs(60));
        assert!(error.unwrap_err().to_string().contains("AZURE_STORAGE_KEY"));
    }
}

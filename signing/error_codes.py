"""Every stable error code dcc-service emits, in one place (part of the public contract).

A code is snake_case, names the thing first and what is wrong with it second
(``unknown_field``, ``kid_unknown``, ``zlib_truncated``), and means one thing everywhere:
a request body's unknown key is ``unknown_field`` on every route. Codes reach clients as
the ``code`` of a problem (RFC 9457), of a field error inside it, of a verification
report's ``error``, and operators as the one line ``dcc`` prints. The groups say where a
code is raised; tests/signing/test_error_codes.py checks that the code base raises no code
missing here and that nothing here is dead.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ERROR_CODES", "GROUPS"]

GROUPS: Final[dict[str, frozenset[str]]] = {
    # signing/: the hierarchy's defaults, CBOR, COSE, algorithms, the signer pool
    "signing": frozenset(
        {
            "dcc_error",
            "decode_error",
            "config_invalid",
            "key_material_invalid",
            "request_invalid",
            "signature_invalid",
            "signature_malformed",
            "signing_failed",
            "signer_unavailable",
            "signing_key_unavailable",
            "hsm_unavailable",
            "signer_pool_empty",
            "signer_pool_timeout",
            "cbor_invalid",
            "cbor_trailing_bytes",
            "cose_crit",
            "cose_header_conflict",
            "cose_header_invalid",
            "cose_payload_missing",
            "cose_structure",
            "cose_tag_unsupported",
            "alg_key_mismatch",
            "alg_unsupported",
            "key_curve_unsupported",
            "key_size_unsupported",
            "key_type_unsupported",
        }
    ),
    # hcert/: the HC1 container, the claims, the value sets
    "hcert": frozenset(
        {
            "input_empty",
            "input_invalid",
            "input_too_long",
            "prefix_invalid",
            "base45_alphabet",
            "base45_length",
            "base45_overflow",
            "zlib_invalid",
            "zlib_too_large",
            "zlib_trailing_bytes",
            "zlib_truncated",
            "claims_invalid",
            "claim_iss_invalid",
            "claim_iat_invalid",
            "claim_exp_invalid",
            "hcert_missing",
            "dcc_invalid",
            "device_format",
            "device_inactive",
            "device_unknown",
            "revocation_list_invalid",
        }
    ),
    # keys/: generating, loading and listing keys and certificates
    "keys": frozenset(
        {
            "cert_types_invalid",
            "certificate_chain_invalid",
            "certificate_country_missing",
            "certificate_eku_invalid",
            "certificate_expired",
            "certificate_not_yet_valid",
            "certificate_type_not_allowed",
            "country_invalid",
            "key_certificate_mismatch",
            "key_file_invalid",
            "key_file_missing",
            "key_passphrase_wrong",
            "keys_exist",
            "keys_write_failed",
            "organisation_invalid",
            "passphrase_invalid",
            "rsa_bits_unsupported",
            "trust_list_invalid",
            "trust_list_expired",
            "trust_list_signature_invalid",
            # keys/ lifecycle (manifest, rotate, retire, revoke, the key ring)
            "dsc_unknown",
            "manifest_invalid",
            "no_active_key",
            "pkcs11_not_configured",
            "scope_invalid",
        }
    ),
    # issuer/: the issue request's field errors, UVCI, rendering
    "issuer": frozenset(
        {
            "unknown_field",
            "required",
            "type",
            "name_missing",
            "too_long",
            "invalid_characters",
            "transliteration_empty",
            "standardised_format",
            "standardised_without_name",
            "dob_format",
            "dob_in_future",
            "dob_invalid",
            "dob_too_early",
            "test_type_unknown",
            "device_required",
            "device_forbidden",
            "name_forbidden",
            "sample_time_format",
            "sample_time_in_future",
            "sample_time_offset_missing",
            "sample_time_too_old",
            "result_positive",
            "result_unknown",
            "certificate_already_expired",
            "policy_invalid",
            "transliteration_config_invalid",
            "uvci_config_invalid",
            "uvci_invalid",
            "qr_layout_invalid",
            "qr_render_failed",
            "qr_text_invalid",
            "pdf_render_failed",
            "timezone_invalid",
        }
    ),
    # verifier/: the report's error codes not raised by a lower layer
    "verifier": frozenset(
        {
            "image_invalid",
            "image_too_large",
            "qr_not_found",
            "zlib_missing",
            "kid_missing",
            "kid_invalid",
            "kid_length",
            "kid_unknown",
            "alg_missing",
            "expired",
            "not_yet_valid",
            "exp_before_iat",
            "schema_wrong_type",
            "schema_missing_field",
            "schema_pattern",
            "schema_too_long",
            "schema_date_format",
            "schema_value",
            "schema_group",
            "schema_entry_count",
            "key_usage_mismatch",
            "revoked",
            "test_result_not_negative",
            "sample_in_future",
            "test_too_old",
            "rat_device_missing",
            "rat_device_unknown",
            "rat_device_inactive",
            "trust_file_unreadable",
            "trust_list_key_invalid",
            "trust_list_key_missing",
            # trust_list_signature_invalid: in the key-material group (one meaning: a trust
            # list's signature does not verify, ours signed by the CSCA or a publisher's)
            "internal_error",
        }
    ),
    # store/: the database and the accounts in it
    "store": frozenset(
        {
            "store_unavailable",
            "schema_outdated",
            "database_url_invalid",
            "account_error",
            "account_exists",
            "account_invalid",
            "account_name_invalid",
            "account_not_found",
            "role_invalid",
            "status_invalid",
            "certificate_not_found",
            "certificate_not_reissuable",
            "certificate_not_yours",
            "reason_invalid",
            "revocation_window_invalid",
        }
    ),
    # api/: HTTP problems, request bodies, accounts, quotas, start-up checks
    "api": frozenset(
        {
            "bad_request",
            "not_found",
            "method_not_allowed",
            "authentication_required",
            "api_key_invalid",
            "account_disabled",
            "role_forbidden",
            "body_too_large",
            "body_malformed",
            "body_not_object",
            "content_length_invalid",
            "json_invalid",
            "multipart_invalid",
            "unsupported_media_type",
            "not_acceptable",
            "file_missing",
            "hc1_missing",
            "hc1_too_long",
            "items_invalid",
            "batch_too_large",
            "batch_exceeds_burst",
            "rate_limited",
            "render_concurrency",
            "rate_invalid",
            "rate_cost_invalid",
            "rate_limiter_invalid",
            "rate_limiter_unavailable",
            "idempotency_key_invalid",
            "idempotency_key_in_flight",
            "idempotency_key_reused",
            "render_self_check_failed",
            "settings_invalid",
            "country_mismatch",
            "time_invalid",
        }
    ),
    # store/members, api/ logins: organisations' members, sessions, access tokens (OIDC)
    "identity": frozenset(
        {
            "kind_invalid",
            "member_exists",
            "member_invalid",
            "member_not_found",
            "member_role_forbidden",
            "access_token_invalid",
            "csrf_token_invalid",
            "login_invalid",
            "oidc_unavailable",
        }
    ),
    # cli/: the dcc command's own usage errors
    "cli": frozenset(
        {
            "accounts_file_invalid",
            "grace_invalid",
            "output_unwritable",
            "redis_url_invalid",
            "request_not_json",
            "request_too_large",
            "request_unreadable",
            "serve_usage",
        }
    ),
    # verifier/certlogic/, verifier/destination/: CertLogic and the destination's rules
    "destination_rules": frozenset(
        {
            "certlogic_error",
            "rules_invalid",
            "rule_failed",
            "rule_open",
            "rules_unavailable",
            "at_invalid",
            "lang_invalid",
        }
    ),
}

ERROR_CODES: Final[frozenset[str]] = frozenset().union(*GROUPS.values())
"""Every code, whatever its group."""

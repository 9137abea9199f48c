"""What each verification error code means for a person, in English and French.

The JSON report keeps its technical ``message`` and ``detail`` (for support and logs); a page
or an app shows :func:`message_for` of the code instead, in the reader's language. Every
code a report can carry is listed in :data:`CODES_BY_CHECK` (the table of
docs/verification-report.md), and every one has a text in each of :data:`LANGUAGES`
(tests/verifier/test_messages.py fails otherwise). The ``/verify`` page receives them as
``/assets/messages.js`` (api/pages/views.py).
"""

from __future__ import annotations

from typing import Final, Literal

from verifier.report import CheckName

__all__ = ["CODES_BY_CHECK", "LANGUAGES", "MESSAGES", "Language", "message_for"]

Language = Literal["en", "fr"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "fr")

CODES_BY_CHECK: Final[dict[CheckName | Literal["any"], tuple[str, ...]]] = {
    "prefix": (
        "input_empty",
        "input_too_long",
        "input_invalid",
        "prefix_invalid",
        "image_invalid",
        "image_too_large",
        "qr_not_found",
    ),
    "base45": ("base45_length", "base45_alphabet", "base45_overflow"),
    "zlib": (
        "zlib_missing",
        "zlib_invalid",
        "zlib_truncated",
        "zlib_trailing_bytes",
        "zlib_too_large",
    ),
    "cose": (
        "cbor_invalid",
        "cbor_trailing_bytes",
        "cose_tag_unsupported",
        "cose_structure",
        "cose_payload_missing",
        "cose_header_invalid",
        "cose_crit",
        "cose_header_conflict",
        "claims_invalid",
        "claim_iss_invalid",
        "claim_iat_invalid",
        "claim_exp_invalid",
        "hcert_missing",
        "dcc_invalid",
    ),
    "kid": ("kid_missing", "kid_invalid", "kid_length", "kid_unknown"),
    "signature": (
        "alg_missing",
        "alg_unsupported",
        "alg_key_mismatch",
        "key_curve_unsupported",
        "key_size_unsupported",
        "key_type_unsupported",
        "signature_malformed",
        "signature_invalid",
    ),
    "expiry": ("expired", "not_yet_valid", "exp_before_iat"),
    "schema": (
        "schema_wrong_type",
        "schema_missing_field",
        "schema_pattern",
        "schema_too_long",
        "schema_date_format",
        "schema_value",
        "schema_group",
        "schema_entry_count",
    ),
    "key_usage": ("key_usage_mismatch", "certificate_eku_invalid"),
    "revocation": ("revoked",),
    "rules": (
        "test_type_unknown",
        "test_result_not_negative",
        "sample_in_future",
        "test_too_old",
        "rat_device_missing",
        "rat_device_unknown",
        "rat_device_inactive",
        "rule_failed",
        "rule_open",
        "rules_unavailable",
    ),
    "any": ("internal_error",),
}
"""Every error code a verification report can carry, by the check that reports it."""

_DAMAGED_EN: Final = (
    "The QR code is damaged or incomplete, so it cannot be read. Scan it again, "
    "or ask the issuer for a new copy."
)
_DAMAGED_FR: Final = (
    "Le code QR est abîmé ou incomplet : il ne peut pas être lu. Scannez-le à nouveau "
    "ou demandez une nouvelle copie à l'émetteur."
)
_MALFORMED_EN: Final = (
    "The certificate is not built the way an EU certificate must be: it cannot be checked."
)
_MALFORMED_FR: Final = (
    "Le certificat n'est pas construit comme un certificat de l'UE doit l'être : "
    "il ne peut pas être vérifié."
)
_SIGNATURE_EN: Final = (
    "The certificate's signature cannot be checked: it was not made in a way EU "
    "certificates are signed."
)
_SIGNATURE_FR: Final = (
    "La signature du certificat ne peut pas être vérifiée : elle n'est pas faite "
    "comme celles des certificats de l'UE."
)
_DATA_EN: Final = "The data in the certificate does not follow the EU format: {what}."
_DATA_FR: Final = "Les données du certificat ne suivent pas le format de l'UE : {what}."


def _data(en: str, fr: str) -> dict[Language, str]:
    return {"en": _DATA_EN.format(what=en), "fr": _DATA_FR.format(what=fr)}


def _same(en: str, fr: str, *codes: str) -> dict[str, dict[Language, str]]:
    return {code: {"en": en, "fr": fr} for code in codes}


MESSAGES: Final[dict[str, dict[Language, str]]] = {
    # prefix: what was given
    "input_empty": {"en": "Nothing to check.", "fr": "Rien à vérifier."},
    "input_too_long": {
        "en": "This text is longer than any certificate QR code can hold.",
        "fr": "Ce texte est plus long que ce qu'un code QR de certificat peut contenir.",
    },
    "input_invalid": {
        "en": "This is not the text of a certificate: it holds characters a certificate "
        "never has. Paste only the text that starts with HC1:.",
        "fr": "Ce n'est pas le texte d'un certificat : il contient des caractères qu'un "
        "certificat n'a jamais. Collez seulement le texte qui commence par HC1:.",
    },
    "prefix_invalid": {
        "en": "This is not an EU certificate (it does not start with HC1:).",
        "fr": "Ce n'est pas un certificat de l'UE (il ne commence pas par HC1:).",
    },
    "image_invalid": {
        "en": "The file is not a readable image.",
        "fr": "Le fichier n'est pas une image lisible.",
    },
    "image_too_large": {"en": "The image is too large.", "fr": "L'image est trop grande."},
    "qr_not_found": {
        "en": "No QR code was found in the image. Try a sharper photo with the whole code "
        "in the picture.",
        "fr": "Aucun code QR n'a été trouvé dans l'image. Essayez une photo plus nette où "
        "le code est entier.",
    },
    # base45, zlib, cose: the QR content is damaged
    **_same(
        _DAMAGED_EN,
        _DAMAGED_FR,
        "base45_length",
        "base45_alphabet",
        "base45_overflow",
        "zlib_invalid",
        "zlib_truncated",
        "zlib_trailing_bytes",
        "cbor_invalid",
        "cbor_trailing_bytes",
    ),
    "zlib_missing": {"en": _MALFORMED_EN, "fr": _MALFORMED_FR},
    "zlib_too_large": {
        "en": "The QR code holds far more data than a certificate: it is not checked.",
        "fr": "Le code QR contient bien plus de données qu'un certificat : il n'est pas vérifié.",
    },
    **_same(
        _MALFORMED_EN,
        _MALFORMED_FR,
        "cose_tag_unsupported",
        "cose_structure",
        "cose_payload_missing",
        "cose_header_invalid",
        "cose_crit",
        "cose_header_conflict",
        "claims_invalid",
    ),
    "claim_iss_invalid": {
        "en": "The certificate does not say correctly which country issued it.",
        "fr": "Le certificat n'indique pas correctement le pays qui l'a délivré.",
    },
    **_same(
        "The certificate's dates of issue and validity are missing or unreadable.",
        "Les dates de délivrance et de validité du certificat sont absentes ou illisibles.",
        "claim_iat_invalid",
        "claim_exp_invalid",
    ),
    **_same(
        "The QR code holds no COVID certificate.",
        "Le code QR ne contient pas de certificat COVID.",
        "hcert_missing",
        "dcc_invalid",
    ),
    # kid: which issuer signed it
    **_same(
        "The certificate does not say which key signed it, so it cannot be checked.",
        "Le certificat n'indique pas quelle clé l'a signé : il ne peut pas être vérifié.",
        "kid_missing",
        "kid_invalid",
        "kid_length",
    ),
    "kid_unknown": {
        "en": "Cannot check this issuer: its signing key is in none of the trust lists "
        "loaded here. This does not mean the certificate is forged.",
        "fr": "Impossible de vérifier cet émetteur : sa clé de signature ne figure dans "
        "aucune des listes de confiance chargées ici. Cela ne veut pas dire que le "
        "certificat est falsifié.",
    },
    # signature
    **_same(
        _SIGNATURE_EN,
        _SIGNATURE_FR,
        "alg_missing",
        "alg_unsupported",
        "alg_key_mismatch",
        "key_curve_unsupported",
        "key_size_unsupported",
        "key_type_unsupported",
    ),
    **_same(
        "The signature does not match: the certificate was altered or forged.",
        "La signature ne correspond pas : le certificat a été modifié ou falsifié.",
        "signature_malformed",
        "signature_invalid",
    ),
    # expiry
    "expired": {"en": "The certificate has expired.", "fr": "Le certificat a expiré."},
    "not_yet_valid": {
        "en": "The certificate is not valid yet.",
        "fr": "Le certificat n'est pas encore valable.",
    },
    "exp_before_iat": {
        "en": "The certificate expires before it was issued: its dates are wrong.",
        "fr": "Le certificat expire avant d'avoir été délivré : ses dates sont fausses.",
    },
    # schema
    "schema_wrong_type": _data(
        "a field has the wrong kind of value", "un champ a une valeur du mauvais type"
    ),
    "schema_missing_field": _data("a required field is missing", "un champ obligatoire manque"),
    "schema_pattern": _data(
        "a field is not written as required", "un champ n'est pas écrit comme il faut"
    ),
    "schema_too_long": _data("a field is too long", "un champ est trop long"),
    "schema_date_format": _data(
        "a date is not written as required", "une date n'est pas écrite comme il faut"
    ),
    "schema_value": _data(
        "a field holds a value that is not allowed", "un champ contient une valeur non autorisée"
    ),
    "schema_group": _data(
        "it must be exactly one of a vaccination, a test or a recovery",
        "il doit s'agir d'une seule vaccination, d'un seul test ou d'un seul rétablissement",
    ),
    "schema_entry_count": _data(
        "it must hold exactly one vaccination, test or recovery",
        "il doit contenir exactement une vaccination, un test ou un rétablissement",
    ),
    # key usage
    "key_usage_mismatch": {
        "en": "The issuer's key may not sign this kind of certificate (test, vaccination "
        "or recovery).",
        "fr": "La clé de l'émetteur n'a pas le droit de signer ce type de certificat "
        "(test, vaccination ou rétablissement).",
    },
    "certificate_eku_invalid": {
        "en": "The issuer's key does not say correctly what it may sign.",
        "fr": "La clé de l'émetteur n'indique pas correctement ce qu'elle peut signer.",
    },
    # rules
    "test_type_unknown": {
        "en": "This type of test is not accepted.",
        "fr": "Ce type de test n'est pas accepté.",
    },
    "test_result_not_negative": {
        "en": "The test result is not negative.",
        "fr": "Le résultat du test n'est pas négatif.",
    },
    "sample_in_future": {
        "en": "The test sample is dated in the future.",
        "fr": "Le prélèvement est daté dans le futur.",
    },
    "test_too_old": {
        "en": "The test is too old to be accepted.",
        "fr": "Le test est trop ancien pour être accepté.",
    },
    "rat_device_missing": {
        "en": "The certificate does not name the rapid test device used.",
        "fr": "Le certificat n'indique pas le test rapide utilisé.",
    },
    "rat_device_unknown": {
        "en": "The rapid test device is not on the EU list of accepted tests.",
        "fr": "Le test rapide utilisé ne figure pas sur la liste des tests acceptés par l'UE.",
    },
    "rat_device_inactive": {
        "en": "The rapid test device is no longer accepted in the EU.",
        "fr": "Le test rapide utilisé n'est plus accepté dans l'UE.",
    },
    "revoked": {
        "en": "The issuer has revoked this certificate: it is no longer valid.",
        "fr": "L'émetteur a révoqué ce certificat : il n'est plus valable.",
    },
    "rule_failed": {
        "en": "A rule of the destination country is not met.",
        "fr": "Une règle du pays de destination n'est pas respectée.",
    },
    "rule_open": {
        "en": "A rule of the destination country cannot be checked, so acceptance cannot be "
        "confirmed.",
        "fr": "Une règle du pays de destination ne peut pas être vérifiée : l'acceptation ne "
        "peut pas être confirmée.",
    },
    "rules_unavailable": {
        "en": "No rules of the destination country are available for this certificate on that "
        "date.",
        "fr": "Aucune règle du pays de destination ne s'applique à ce certificat à cette date.",
    },
    # any
    "internal_error": {
        "en": "The certificate could not be checked because of an error in this service. "
        "Please try again later.",
        "fr": "Le certificat n'a pas pu être vérifié à cause d'une erreur de ce service. "
        "Veuillez réessayer plus tard.",
    },
}
"""The text of each code of :data:`CODES_BY_CHECK`, per language."""


def message_for(code: str, language: Language = "en") -> str | None:
    """The text of ``code`` in ``language``; None for a code that has none (a new code
    whose text is missing: the tests catch it)."""
    texts = MESSAGES.get(code)
    return texts.get(language) if texts is not None else None

"""Sentences the OpenAPI document repeats in several operations' descriptions."""

FORMLESS_DATA = (
    "Without a form, any JSON object, merged into the process data as it is (diagram conditions "
    "and scripts read its top-level names): at most 64 KiB as compact JSON (config "
    "MAX_PROCESS_DATA_BYTES), at most 32 levels of nested objects and lists, top-level names are "
    "identifiers and not Python keywords, and not the names the engine sets (`ticket_id`, "
    "`ticket_type`, `subject`, `priority`, `customer`, `feedback_delay`, `feedback_reminder_delay`, "
    "`feedback_deadline_delay`); no key `typename` and "
    "no key starting with `_` at any level. A refused name answers 422 with `errors` naming it."
)
STEP_FAILED = (
    "or a step after it failed, e.g. a gateway condition or script reading a name the process data "
    "lacks: `errors` is `[{element_id, message, missing}]` (`missing`: the name) and nothing was saved"
)

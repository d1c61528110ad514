//! What a rule would have done over the last day, for the rule form's preview: the
//! evaluator's own condition reads ([`conditions::observe`]) at past instants, fed through the
//! rule's pending evaluations, without state, history or notifications.
//!
//! The work is bounded whatever the rule: at most [`MAX_EVALUATIONS`] instants (one per window,
//! and never closer than [`MIN_STEP_MINUTES`]), and a message regex reads at most
//! [`PREVIEW_REGEX_ROWS`] rows per instant. Instants closer than the live evaluation interval
//! would cost more without telling more, so the preview steps by the window: windows tile the
//! day without overlap and each minute of data is judged once.

use tracewire_shared::api::monitoring::{AlertRulePreview, AlertRuleRequest};
use tracewire_shared::validate::format_timestamp_us;

use super::conditions::{self, ReadError, ReadLimits};

/// The span previewed.
pub const PREVIEW_SPAN_MINUTES: i64 = 24 * 60;
/// Closest spacing of two previewed instants.
pub const MIN_STEP_MINUTES: i64 = 5;
/// Most instants one preview evaluates (24 h at five minutes).
pub const MAX_EVALUATIONS: i64 = PREVIEW_SPAN_MINUTES / MIN_STEP_MINUTES;
/// Most rows a message regex reads per instant (the live evaluator reads up to 10,000).
pub const PREVIEW_REGEX_ROWS: u32 = 1000;

/// Evaluates `rule` (already validated) at instants ending at `now_us`.
pub async fn preview(
    store: &dyn crate::store::Store,
    rule: &AlertRuleRequest,
    now_us: i64,
    limits: &ReadLimits,
) -> Result<AlertRulePreview, ReadError> {
    let limits = ReadLimits {
        regex_max_rows: limits.regex_max_rows.min(PREVIEW_REGEX_ROWS),
        ..*limits
    };
    let step_minutes = i64::from(rule.window_minutes).clamp(MIN_STEP_MINUTES, PREVIEW_SPAN_MINUTES);
    let steps = (PREVIEW_SPAN_MINUTES / step_minutes).clamp(1, MAX_EVALUATIONS);
    let step_us = step_minutes * 60_000_000;
    let first = now_us - (steps - 1) * step_us;
    let pending = rule.pending_evaluations.max(1);
    let (mut breaching, mut no_data, mut streak) = (0u32, 0u32, 0u32);
    let mut firings = Vec::new();
    for i in 0..steps {
        let at = first + i * step_us;
        let seen =
            conditions::observe(store, &rule.condition, rule.window_minutes, at, &limits).await?;
        match seen.value {
            Some(v) if rule.operator.breached(v, rule.threshold) => {
                breaching += 1;
                streak += 1;
                // Fires once when the streak reaches the pending count; stays firing after.
                if streak == pending {
                    firings.push(format_timestamp_us(at));
                }
            }
            Some(_) => streak = 0,
            None => {
                no_data += 1;
                streak = 0;
            }
        }
    }
    Ok(AlertRulePreview {
        from: format_timestamp_us(first),
        to: format_timestamp_us(now_us),
        step_seconds: step_minutes * 60,
        evaluations: steps as u32,
        breaching,
        no_data,
        firings,
    })
}

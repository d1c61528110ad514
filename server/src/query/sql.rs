//! A WHERE clause with `$n` placeholders and its bind values, built without a database so the
//! filter → SQL translation is unit-testable and identical on SQLite and PostgreSQL.

use uuid::Uuid;

/// One value bound to a placeholder; the store binds each with its driver's own type.
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    /// TEXT.
    Text(String),
    /// BIGINT (times in µs).
    Int(i64),
    /// UUID (BLOB in SQLite).
    Uuid(Uuid),
    /// BOOLEAN.
    Bool(bool),
}

/// Conditions joined with AND, numbered `$1…$n` in push order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WhereClause {
    conditions: Vec<String>,
    /// Values for `$1…$n`, in order.
    pub binds: Vec<BindValue>,
}

impl WhereClause {
    /// Adds `condition`, where each `?` becomes the next `$n` bound to the next of `values`.
    /// Fragments are our own constants; user text only ever travels in `values`.
    pub fn and(&mut self, condition: &str, values: Vec<BindValue>) {
        let mut text = String::with_capacity(condition.len() + 8);
        let mut values = values.into_iter();
        for c in condition.chars() {
            if c == '?' {
                if let Some(v) = values.next() {
                    self.binds.push(v);
                    text.push_str(&format!("${}", self.binds.len()));
                }
            } else {
                text.push(c);
            }
        }
        self.conditions.push(text);
    }

    /// `" WHERE a AND b"`, or empty when nothing filters.
    pub fn sql(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// `IN (?, ?, …)` for `n` values (at least one).
    pub fn in_list(column: &str, n: usize) -> String {
        let marks = vec!["?"; n.max(1)].join(", ");
        format!("{column} IN ({marks})")
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally in `LIKE … ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_in_push_order() {
        let mut w = WhereClause::default();
        assert_eq!(w.sql(), "");
        w.and(
            &WhereClause::in_list("level", 2),
            vec![
                BindValue::Text("INFO".into()),
                BindValue::Text("ERROR".into()),
            ],
        );
        w.and("timestamp >= ?", vec![BindValue::Int(5)]);
        assert_eq!(w.sql(), " WHERE level IN ($1, $2) AND timestamp >= $3");
        assert_eq!(w.binds.len(), 3);
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
    }
}

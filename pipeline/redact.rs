//! Keeps CPR numbers out of messages: every value that reaches an error or a log line
//! passes through [`value`], which masks any run of ten or more digits (with or without
//! the `ddmmyy-xxxx` dash).

/// A value fit for an error message: CPR-like digit runs become `**********`, and long
/// values are cut to 60 characters.
#[must_use]
pub fn value(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        // Measure a run of digits, allowing one '-' after exactly six digits.
        let mut j = i;
        let mut digits = 0;
        while j < chars.len() {
            if chars[j].is_ascii_digit() {
                digits += 1;
                j += 1;
            } else if chars[j] == '-'
                && digits == 6
                && j + 1 < chars.len()
                && chars[j + 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        if digits >= 10 {
            out.push_str("**********");
            i = j;
        } else if j > i {
            out.extend(&chars[i..j]);
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    if out.chars().count() > 60 {
        let cut: String = out.chars().take(57).collect();
        format!("{cut}...")
    } else {
        out
    }
}

/// Masks CPR-like digit runs without shortening the value (for data that is kept).
#[must_use]
pub fn mask_cpr(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        let mut j = i;
        let mut digits = 0;
        while j < b.len()
            && (b[j].is_ascii_digit()
                || (b[j] == b'-' && digits == 6 && j + 1 < b.len() && b[j + 1].is_ascii_digit()))
        {
            if b[j].is_ascii_digit() {
                digits += 1;
            }
            j += 1;
        }
        if digits >= 10 {
            out.push_str("**********");
            i = j;
        } else if j > i {
            out.push_str(&raw[i..j]);
            i = j;
        } else {
            let ch = raw[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_cpr_like_runs() {
        assert_eq!(super::value("0101801234"), "**********");
        assert_eq!(super::value("x 010180-1234 y"), "x ********** y");
        assert_eq!(super::value("2018-11-30"), "2018-11-30");
        assert_eq!(super::value("12345678"), "12345678");
    }
}

//! How numbers are shown: percentages at the sheet's precision and thousands separators.

/// `part` as a percentage of `total`, as the sheet writes it: two decimals (`0.99%`, `60.52%`),
/// or two significant digits below 0.1 % (`0.056%`, `0.027%`).
pub fn percent(part: u64, total: u64) -> String {
    if total == 0 {
        return "–".to_string();
    }
    let value = part as f64 * 100.0 / total as f64;
    if value == 0.0 {
        return "0%".to_string();
    }
    let decimals = if value >= 0.1 {
        2
    } else {
        (1 - value.log10().floor() as i32).max(2) as usize
    };
    format!("{value:.decimals$}%")
}

/// `1199882` as `1,199,882`.
pub fn thousands(value: impl Into<u128>) -> String {
    let digits = value.into().to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Bytes in binary units: `4.58 MiB`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut scaled = value as f64;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else {
        format!("{scaled:.2} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_match_the_sheet() {
        // Exercise 4c (AlexNet, 62378344 parameters) and 3b (MNIST CNN, 1199882).
        assert_eq!(percent(34944, 62378344), "0.056%");
        assert_eq!(percent(614656, 62378344), "0.99%");
        assert_eq!(percent(885120, 62378344), "1.42%");
        assert_eq!(percent(1327488, 62378344), "2.13%");
        assert_eq!(percent(37752832, 62378344), "60.52%");
        assert_eq!(percent(16781312, 62378344), "26.90%");
        assert_eq!(percent(4097000, 62378344), "6.57%");
        assert_eq!(percent(320, 1199882), "0.027%");
        assert_eq!(percent(18496, 1199882), "1.54%");
        assert_eq!(percent(1179776, 1199882), "98.32%");
        assert_eq!(percent(1290, 1199882), "0.11%");
        assert_eq!(percent(0, 5), "0%");
    }

    #[test]
    fn separators_and_units() {
        assert_eq!(thousands(1199882u64), "1,199,882");
        assert_eq!(thousands(999u64), "999");
        assert_eq!(thousands(1000u64), "1,000");
        assert_eq!(bytes(1000), "1000 B");
        assert_eq!(bytes(4 * 1199882), "4.58 MiB");
    }
}

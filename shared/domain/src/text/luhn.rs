//! The Luhn (mod 10) check over digit values: card numbers are validated by it
//! (`AccountNumber`) and found by it in free text (masking).

/// The Luhn (mod 10) check digit, as a value 0-9, that completes `body` (digit values).
pub fn luhn_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Luhn (mod 10) check over digit values, rightmost digit being the check digit.
pub fn luhn_valid(digits: &[u8]) -> bool {
    match digits.split_last() {
        Some((&check, body)) => luhn_check_digit(body) == check,
        None => false,
    }
}

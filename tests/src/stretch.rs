//! Stretch checks: placeholder.
use crate::checks::Check;

pub static STRETCH_CHECKS: &[Check] = &[];

pub fn for_lesson(lesson: u8) -> impl Iterator<Item = &'static Check> {
    STRETCH_CHECKS
        .iter()
        .filter(move |check| check.applies_to(lesson))
}

//! The shell's clock: the only place the current time is read.

use crate::time::Millis;

pub fn now() -> Millis {
    Millis(worker::Date::now().as_millis() as i64)
}

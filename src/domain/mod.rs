//! Pure logic with no I/O: the content library, crontab schedules, bank holidays, the rotation
//! of themes and prompts, and planning which post goes out when.

pub mod content;
pub mod holidays;
pub mod planning;
pub mod rotation;
pub mod schedule;
pub mod settings;

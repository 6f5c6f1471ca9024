//! Pure logic with no I/O: the content library, crontab schedules, bank holidays, the rotation
//! of themes and prompts, planning which post goes out when, and which servers a shard owns.

pub mod content;
pub mod holidays;
pub mod planning;
pub mod rotation;
pub mod schedule;
pub mod settings;
pub mod shards;

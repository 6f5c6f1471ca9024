//! One test binary for everything that runs careprompt from the outside.

mod bot;
mod cli;
mod dms;
mod drills;
mod golden;
mod insights;
mod layers;
mod migrations;
mod personal;
mod process;
mod scale;
mod scheduler;
mod sessions;
mod store;
mod support;
mod try_page;
mod untouched_databases;
mod workspace;

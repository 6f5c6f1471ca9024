//! Scheduled channel posts: finding what is due and delivering each slot exactly once.

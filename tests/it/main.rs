//! One test binary for everything that runs careprompt from the outside.

mod cli;

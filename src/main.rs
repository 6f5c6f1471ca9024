use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use careprompt::cli::{self, Failure, PreviewArgs};

/// careprompt: DNA of Care reflection prompts, stories and facilitator packs in Discord.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: careprompt.toml when it exists, else built-in defaults).
    #[arg(long, global = true, env = "CAREPROMPT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot. Needs DISCORD_TOKEN.
    Run {
        /// Run only these gateway shards, such as 0-1, when several processes share the bot and
        /// one PostgreSQL database (see the README). Default: every shard Discord recommends.
        #[arg(long, env = "CAREPROMPT_SHARDS", requires = "total_shards")]
        shards: Option<String>,
        /// How many shards the bot has in all, across every process; goes with --shards.
        #[arg(long, env = "CAREPROMPT_TOTAL_SHARDS", requires = "shards")]
        total_shards: Option<u32>,
    },
    /// See careprompt working first, in a web page, with no Discord account
    ///
    /// careprompt runs on this machine against a stand-in for Discord, and a web page
    /// (http://127.0.0.1:8700) shows a server with one channel, #wellbeing, where you type its
    /// commands as two people and run a reflective session. It is the real
    /// careprompt; only Discord is stood in for. It never contacts Discord (DISCORD_TOKEN is
    /// not read), keeps its data in a temporary file removed when it stops (unless --database),
    /// and is not a way to run careprompt for a team: use `run` for that.
    Try {
        /// Where the page listens. Anything but a loopback address lets other machines use it.
        #[arg(long, default_value = careprompt::tryout::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Keep the try-out's data in this database (sqlite://... or postgres://...) instead of
        /// a temporary file.
        #[arg(long)]
        database: Option<String>,
    },
    /// Bring the database's tables up to date, then exit.
    Migrate,
    /// Validate the configuration and the prompts, and prove every card fits Discord's limits.
    Check {
        /// Also fetch every link in the library and the config once, and report dead or moved
        /// ones (goes online; exit 1 if any is dead).
        #[arg(long)]
        links: bool,
    },
    /// Write a server's /insights chart (PNG) and figures (CSV) into a folder.
    Insights {
        /// The server's id.
        #[arg(long)]
        guild: u64,
        /// How many weeks, up to this one: 4, 12, 26 or 52.
        #[arg(long, default_value_t = 12)]
        weeks: u32,
        /// The folder to write careprompt-insights.png and careprompt-insights.csv into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Show the next posts a schedule would make.
    Preview(PreviewArgs),
}

fn main() -> ExitCode {
    careprompt::memory::hold_less_when_idle();
    let args = Cli::parse();
    careprompt::telemetry::init_with_default(match args.command {
        Command::Try { .. } => careprompt::telemetry::TRY_FILTER,
        _ => careprompt::telemetry::DEFAULT_FILTER,
    });
    let mut stdout = std::io::stdout().lock();
    let result: Result<(), Failure> = match args.command {
        Command::Run {
            shards,
            total_shards,
        } => cli::run_bot(args.config, shards.as_deref(), total_shards),
        Command::Try { listen, database } => cli::try_out(listen, database),
        Command::Migrate => cli::migrate(args.config, &mut stdout),
        Command::Insights { guild, weeks, out } => cli::insights(
            args.config,
            guild,
            weeks,
            &out,
            chrono::Utc::now(),
            &mut stdout,
        ),
        Command::Check { links } => cli::check(args.config.clone(), &mut stdout).and_then(|()| {
            if links {
                cli::check_links(args.config, &mut stdout)
            } else {
                Ok(())
            }
        }),
        Command::Preview(preview) => {
            cli::preview(args.config, &preview, chrono::Utc::now(), &mut stdout)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

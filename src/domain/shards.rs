//! Which servers a process looks after when careprompt runs as several processes, each with a
//! range of Discord's gateway shards. Discord puts a server on shard `(guild_id >> 22) % total`;
//! a process schedules and delivers for the servers of its own shards only, so that its posts
//! follow its gateway connections. A platform without shards (Microsoft Teams) has its places
//! looked after by one process: by default the one holding shard 0, so that of processes sharing
//! out every shard exactly one does.

use std::fmt;

/// A range of shards out of a total, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    first: u32,
    last: u32,
    total: u32,
    /// Whether the places of platforms without shards are this process's too.
    other_platforms: bool,
}

/// Discord's own limit is far lower; this only keeps the arithmetic sane.
const MAX_SHARDS: u32 = 1 << 16;

impl ShardRange {
    /// Every shard, whatever their number: one process looks after every server.
    pub const ALL: ShardRange = ShardRange {
        first: 0,
        last: 0,
        total: 1,
        other_platforms: true,
    };

    pub fn new(first: u32, last: u32, total: u32) -> Result<ShardRange, String> {
        if total == 0 || total > MAX_SHARDS {
            return Err(format!(
                "the total number of shards must be between 1 and {MAX_SHARDS}, not {total}"
            ));
        }
        if first > last {
            return Err(format!(
                "the shard range {first}-{last} runs backwards; write the lower shard first"
            ));
        }
        if last >= total {
            return Err(format!(
                "shard {last} does not exist: with {total} shards they are numbered 0 to {}",
                total - 1
            ));
        }
        Ok(ShardRange {
            first,
            last,
            total,
            other_platforms: first == 0,
        })
    }

    /// The same shards, with the places of platforms without shards this process's or not,
    /// whichever shards it holds.
    pub fn with_other_platforms(self, serves: bool) -> ShardRange {
        ShardRange {
            other_platforms: serves,
            ..self
        }
    }

    /// Whether this process looks after the places of platforms without shards.
    pub fn serves_other_platforms(&self) -> bool {
        self.other_platforms
    }

    /// Reads `--shards` ("2-3", or "2" for one shard) with `--total-shards`.
    pub fn parse(range: &str, total: u32) -> Result<ShardRange, String> {
        let number = |text: &str| {
            text.trim().parse::<u32>().map_err(|_| {
                format!("\"{range}\" is not a shard range: write it as FIRST-LAST, such as 0-1")
            })
        };
        let (first, last) = match range.split_once('-') {
            Some((first, last)) => (number(first)?, number(last)?),
            None => {
                let only = number(range)?;
                (only, only)
            }
        };
        ShardRange::new(first, last, total)
    }

    pub fn first(&self) -> u32 {
        self.first
    }

    pub fn last(&self) -> u32 {
        self.last
    }

    pub fn total(&self) -> u32 {
        self.total
    }

    /// How many shards the range holds.
    pub fn count(&self) -> u32 {
        self.last - self.first + 1
    }

    /// The range holds every shard.
    pub fn is_all(&self) -> bool {
        self.count() == self.total
    }

    /// The shard Discord puts a server on.
    pub fn shard_of(&self, guild_id: u64) -> u32 {
        u32::try_from((guild_id >> 22) % u64::from(self.total)).unwrap_or(u32::MAX)
    }

    /// Whether the server is this range's to look after.
    pub fn owns(&self, guild_id: u64) -> bool {
        (self.first..=self.last).contains(&self.shard_of(guild_id))
    }

    /// This range's part of a budget shared by every shard, such as Discord's global rate limit.
    /// Never less than one.
    pub fn share_of(&self, budget: u32) -> u32 {
        let share = u64::from(budget) * u64::from(self.count()) / u64::from(self.total);
        u32::try_from(share).unwrap_or(budget).max(1)
    }
}

impl fmt::Display for ShardRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            write!(f, "all")
        } else if self.first == self.last {
            write!(f, "{} of {}", self.first, self.total)
        } else {
            write!(f, "{}-{} of {}", self.first, self.last, self.total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snowflake on the given shard of `total`.
    fn guild_on(shard: u64, total: u64, n: u64) -> u64 {
        ((n * total + shard) << 22) | 12345
    }

    #[test]
    fn ranges_are_read_as_first_and_last_inclusive() {
        let range = ShardRange::parse("1-2", 4).expect("range");
        assert_eq!((range.first(), range.last(), range.count()), (1, 2, 2));
        assert_eq!(ShardRange::parse("3", 4).expect("one").count(), 1);
        assert_eq!(
            ShardRange::parse(" 0 - 3 ", 4).expect("spaces").to_string(),
            "all"
        );
        assert_eq!(
            ShardRange::parse("1-2", 4).expect("range").to_string(),
            "1-2 of 4"
        );
    }

    #[test]
    fn of_processes_sharing_out_every_shard_one_serves_the_other_platforms() {
        let processes: Vec<ShardRange> = ["0-1", "2", "3"]
            .iter()
            .map(|range| ShardRange::parse(range, 4).expect("range"))
            .collect();
        let serving: Vec<bool> = processes
            .iter()
            .map(ShardRange::serves_other_platforms)
            .collect();
        assert_eq!(serving, vec![true, false, false]);
        assert!(ShardRange::ALL.serves_other_platforms());
        let dedicated = processes[1].with_other_platforms(true);
        assert!(dedicated.serves_other_platforms());
        assert_eq!(dedicated.to_string(), processes[1].to_string());
        assert!(!ShardRange::ALL
            .with_other_platforms(false)
            .serves_other_platforms());
    }

    #[test]
    fn impossible_ranges_say_what_is_wrong() {
        assert!(ShardRange::parse("2-1", 4)
            .unwrap_err()
            .contains("backwards"));
        assert!(ShardRange::parse("0-4", 4).unwrap_err().contains("0 to 3"));
        assert!(ShardRange::parse("a-b", 4)
            .unwrap_err()
            .contains("FIRST-LAST"));
        assert!(ShardRange::parse("0", 0).unwrap_err().contains("between 1"));
    }

    #[test]
    fn a_server_belongs_to_the_shard_discord_puts_it_on() {
        let total = 4;
        for shard in 0..total {
            for n in 0..50 {
                let guild = guild_on(shard, total, n);
                let owners: Vec<u32> = (0..4)
                    .filter(|s| ShardRange::new(*s, *s, 4).expect("range").owns(guild))
                    .collect();
                assert_eq!(owners, [u32::try_from(shard).expect("small")]);
            }
        }
        assert!(ShardRange::ALL.owns(u64::MAX));
    }

    #[test]
    fn a_split_shares_the_budget_without_exceeding_it() {
        let split = [
            ShardRange::new(0, 0, 4).expect("range"),
            ShardRange::new(1, 1, 4).expect("range"),
            ShardRange::new(2, 3, 4).expect("range"),
        ];
        let total: u32 = split.iter().map(|range| range.share_of(45)).sum();
        assert!(total <= 45, "{total}");
        assert_eq!(ShardRange::ALL.share_of(45), 45);
        assert_eq!(ShardRange::new(0, 0, 1000).expect("range").share_of(45), 1);
    }
}

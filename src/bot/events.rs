//! Gateway events other than slash commands: button clicks, and joining or leaving a server.

use std::collections::HashSet;

use poise::serenity_prelude as serenity;

use crate::bot::components;
use crate::bot::data::{Data, Error};
use crate::domain::shards::ShardRange;

pub async fn handle(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    match event {
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(component),
        } => components::handle(framework.user_data().await, component).await,
        serenity::FullEvent::GuildCreate { guild, .. } => {
            framework
                .user_data()
                .await
                .store
                .guild_present(guild.id.get())
                .await?;
            Ok(())
        }
        // `unavailable` means an outage at Discord, not that careprompt was removed.
        serenity::FullEvent::GuildDelete { incomplete, .. } if !incomplete.unavailable => {
            let data = framework.user_data().await;
            data.store
                .guild_departed(incomplete.id.get(), data.clock.now())
                .await?;
            tracing::info!("careprompt was removed from a server; its schedules have stopped");
            Ok(())
        }
        serenity::FullEvent::Ready { data_about_bot } => {
            let shard = framework.serenity_context.shard_id.0;
            let data = framework.user_data().await;
            data.shards.set(shard, true);
            notice_servers_left_while_away(data, data_about_bot).await
        }
        serenity::FullEvent::ShardStageUpdate { event } => {
            let connected = matches!(event.new, serenity::ConnectionStage::Connected);
            framework
                .user_data()
                .await
                .shards
                .set(event.shard_id.0, connected);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// READY lists every server of the shard. One careprompt holds data for that is missing was left
/// while careprompt was not connected, when no GUILD_DELETE could reach it: its schedules stop
/// now, and its data is erased after the retention period as for any other server left.
async fn notice_servers_left_while_away(data: &Data, ready: &serenity::Ready) -> Result<(), Error> {
    let (shard, total) = ready.shard.map_or((0, 1), |info| (info.id.0, info.total));
    let Ok(on_shard) = ShardRange::new(shard, shard, total) else {
        return Ok(());
    };
    let listed: HashSet<u64> = ready.guilds.iter().map(|guild| guild.id.get()).collect();
    let now = data.clock.now();
    let mut left = 0;
    for guild in data.store.known_guilds(&on_shard).await? {
        if !listed.contains(&guild) {
            data.store.guild_departed(guild, now).await?;
            left += 1;
        }
    }
    if left > 0 {
        tracing::info!(
            shard,
            servers = left,
            "careprompt was removed from servers while it was away; their schedules have stopped"
        );
    }
    Ok(())
}

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
            let data = framework.user_data().await;
            if data.presence.present(guild.id.get()).await? {
                tracing::info!("careprompt is back in a server it was removed from");
            }
            Ok(())
        }
        // `unavailable` means an outage at Discord, not that careprompt was removed.
        serenity::FullEvent::GuildDelete { incomplete, .. } if !incomplete.unavailable => {
            let data = framework.user_data().await;
            data.presence
                .removed(incomplete.id.get(), data.clock.now())
                .await?;
            tracing::info!("careprompt was removed from a server; its schedules have stopped");
            Ok(())
        }
        // A shard counts as ready once its servers are settled, so nothing scheduled for a
        // server still being settled is held back by mistake, and `/readyz` says so only then.
        serenity::FullEvent::Ready { data_about_bot } => {
            let shard = framework.serenity_context.shard_id.0;
            let data = framework.user_data().await;
            let settled = notice_servers_left_while_away(data, data_about_bot).await;
            data.shards.set(shard, true);
            settled
        }
        serenity::FullEvent::Resume { .. } => {
            let shard = framework.serenity_context.shard_id.0;
            framework.user_data().await.shards.set(shard, true);
            Ok(())
        }
        serenity::FullEvent::ShardStageUpdate { event }
            if !matches!(event.new, serenity::ConnectionStage::Connected) =>
        {
            framework
                .user_data()
                .await
                .shards
                .set(event.shard_id.0, false);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// READY lists every server of the shard. One careprompt holds data for that is missing was left
/// while careprompt was not connected, when no GUILD_DELETE could reach it: its schedules stop
/// now, and its data is erased after the retention period as for any other server left. One
/// listed that was departed is back: its schedules carry on.
async fn notice_servers_left_while_away(data: &Data, ready: &serenity::Ready) -> Result<(), Error> {
    let (shard, total) = ready.shard.map_or((0, 1), |info| (info.id.0, info.total));
    let Ok(on_shard) = ShardRange::new(shard, shard, total) else {
        return Ok(());
    };
    let listed: HashSet<u64> = ready.guilds.iter().map(|guild| guild.id.get()).collect();
    let left = data
        .presence
        .listed(&on_shard, &listed, data.clock.now())
        .await?;
    if left > 0 {
        tracing::info!(
            shard,
            servers = left,
            "careprompt was removed from servers while it was away; their schedules have stopped"
        );
    }
    Ok(())
}

//! Gateway events other than slash commands: button clicks, and joining or leaving a server.

use poise::serenity_prelude as serenity;

use crate::bot::components;
use crate::bot::data::{Data, Error};

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
        serenity::FullEvent::Ready { .. } => {
            let shard = framework.serenity_context.shard_id.0;
            framework.user_data().await.shards.set(shard, true);
            Ok(())
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

//! The gateway side: serenity's event handler (READY, INTERACTION_CREATE, CHANNEL_DELETE) and
//! answering an interaction that came over it, then its follow-ups.

use super::interactions::deferred_response;
use super::*;

impl DiscordBot {
    /// Answers one interaction that came over the gateway: the response, then follow-ups.
    pub(super) async fn on_gateway_interaction(&self, interaction: Interaction) {
        let Some((id, token)) = ids(&interaction) else {
            return;
        };
        let mut worker = {
            let (bot, interaction) = (self.clone(), interaction.clone());
            self.inner
                .tasks
                .spawn(async move { bot.plan(&interaction).await })
        };
        let http = &self.inner.http;
        let plan = tokio::select! {
            res = &mut worker => res.ok().flatten(),
            _ = tokio::time::sleep(DEFER_AFTER) => {
                // Too slow for Discord's 3 s (an /import looking titles up at arXiv's pace):
                // acknowledge now, answer when it is ready.
                let deferred = deferred_response(&interaction);
                if let Err(e) = http
                    .create_interaction_response(id.into(), &token, &deferred, vec![])
                    .await
                {
                    tracing::warn!(error = %redact(&e.to_string()), "interaction response failed");
                    return;
                }
                let component = matches!(interaction, Interaction::Component(_));
                if let Ok(Some(plan)) = worker.await {
                    self.answer_late(&token, component, plan).await;
                }
                return;
            }
        };
        let Some(plan) = plan else {
            return;
        };
        if let Err(e) = http
            .create_interaction_response(id.into(), &token, &plan.first, vec![])
            .await
        {
            tracing::warn!(error = %redact(&e.to_string()), "interaction response failed");
            return;
        }
        self.follow_up(&token, plan.rest).await;
    }

    pub(super) async fn follow_up(&self, token: &str, messages: Vec<Message>) {
        for m in messages {
            let f = followup(&m, &self.rows(&m));
            let files = m
                .files
                .iter()
                .map(|(name, bytes)| CreateAttachment::bytes(bytes.clone(), name.clone()))
                .collect();
            if let Err(e) = self
                .inner
                .http
                .create_followup_message(token, &f, files)
                .await
            {
                tracing::warn!(error = %redact(&e.to_string()), "follow-up message failed");
                return;
            }
        }
    }
}

pub(super) struct Events {
    pub(super) bot: DiscordBot,
}

#[serenity::async_trait]
impl EventHandler for Events {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "Discord gateway ready");
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let bot = self.bot.clone();
        let Ok(permit) = bot.inner.slots.clone().acquire_owned().await else {
            return;
        };
        self.bot.inner.tasks.spawn(async move {
            bot.on_gateway_interaction(interaction).await;
            drop(permit);
        });
    }

    async fn channel_delete(
        &self,
        _ctx: Context,
        channel: GuildChannel,
        _messages: Option<Vec<serenity::all::Message>>,
    ) {
        self.bot
            .inner
            .core
            .chat_gone(&channel_ref(channel.id), "the channel was deleted")
            .await;
    }
}

//! What answering one interaction takes, decided whole: autocomplete, a slash command or a
//! button through the core's `Handler`, the permission and flood checks, merged replies.

use super::*;

impl DiscordBot {
    /// Decides the whole answer to an interaction. `None` for kinds paperbell ignores.
    pub(super) async fn plan(&self, interaction: &Interaction) -> Option<Plan> {
        match interaction {
            Interaction::Ping(_) => Some(Plan {
                first: CreateInteractionResponse::Pong,
                first_message: None,
                new_rows: None,
                rest: vec![],
            }),
            Interaction::Autocomplete(i) => Some(self.autocomplete(i).await),
            Interaction::Command(i) => Some(self.on_command(i).await),
            Interaction::Component(i) => Some(self.on_component(i).await),
            _ => None,
        }
    }

    pub(super) async fn autocomplete(&self, i: &CommandInteraction) -> Plan {
        let typed = i
            .data
            .options
            .iter()
            .find_map(|o| match &o.value {
                CommandDataOptionValue::Autocomplete { value, .. } if o.name == "topic" => {
                    Some(value.clone())
                }
                _ => None,
            })
            .unwrap_or_default();
        let items = self
            .inner
            .core
            .suggest_topics(&channel_ref(i.channel_id), &typed)
            .await;
        let mut resp = CreateAutocompleteResponse::new();
        for (label, value) in parse::choices(&items) {
            resp = resp.add_string_choice(label, value);
        }
        Plan {
            first: CreateInteractionResponse::Autocomplete(resp),
            first_message: None,
            new_rows: None,
            rest: vec![],
        }
    }

    pub(super) async fn on_command(&self, i: &CommandInteraction) -> Plan {
        let caller = caller(
            i.channel_id,
            i.guild_id,
            i.member.as_deref(),
            &i.locale,
            i.user.id.get(),
        );
        // A command from a channel shows the bot is there again (the core reactivates it).
        self.guard().gone.remove(&i.channel_id.get());
        if let Some(plan) = self.flood_check(i.user.id.get(), &caller).await {
            return plan;
        }
        let options: Vec<(String, Value)> = i
            .data
            .options
            .iter()
            .filter_map(|o| match &o.value {
                CommandDataOptionValue::String(s) => Some((o.name.clone(), Value::Text(s.clone()))),
                CommandDataOptionValue::Integer(n) => Some((o.name.clone(), Value::Integer(*n))),
                _ => None,
            })
            .collect();
        let Some(cmds) = parse::commands(&i.data.name, &options) else {
            let lang = self.lang(&caller).await;
            return self.answer(
                vec![ephemeral(format!(
                    "{} /{}. {}",
                    t(lang, "Unknown command", "未知命令"),
                    i.data.name,
                    t(lang, "/help lists the commands.", "/help 列出所有命令。")
                ))],
                false,
            );
        };
        let mut messages = Vec::new();
        for cmd in cmds {
            let cmd = match cmd {
                // The attachment is fetched only for someone the core will let import.
                Command::Import { text, file: None } if caller.can_manage => Command::Import {
                    text,
                    file: self.attachment(i).await,
                },
                cmd => cmd,
            };
            messages.extend(render::reply(&self.command(&caller, cmd).await));
        }
        self.answer(merge_texts(messages), false)
    }

    /// The file attached to a slash command (its attachment option), fetched from the URL
    /// Discord gives when it is no larger than an import reads.
    async fn attachment(&self, i: &CommandInteraction) -> Option<Upload> {
        let id = i.data.options.iter().find_map(|o| match &o.value {
            CommandDataOptionValue::Attachment(id) => Some(*id),
            _ => None,
        })?;
        let Some(a) = i.data.resolved.attachments.get(&id) else {
            return Some(Upload::Failed {
                name: "file".into(),
            });
        };
        let name = a.filename.clone();
        let size = u64::from(a.size);
        if size > MAX_UPLOAD_BYTES {
            return Some(Upload::TooLarge { name, size });
        }
        let fetched = async {
            let resp = self
                .inner
                .rest
                .get(&a.url)
                .send()
                .await?
                .error_for_status()?;
            resp.bytes().await
        };
        Some(match fetched.await {
            Ok(b) => Upload::downloaded(name, b.to_vec()),
            Err(e) => {
                tracing::warn!(error = %redact(&e.to_string()), "an attachment could not be downloaded");
                Upload::Failed { name }
            }
        })
    }

    pub(super) async fn on_component(&self, i: &ComponentInteraction) -> Plan {
        let caller = caller(
            i.channel_id,
            i.guild_id,
            i.member.as_ref(),
            &i.locale,
            i.user.id.get(),
        );
        self.guard().gone.remove(&i.channel_id.get());
        let resolved = self
            .inner
            .buttons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .resolve(&i.data.custom_id);
        if let Some(tap @ Callback::Rate { .. }) = &resolved {
            return self.on_rating_tap(i, &caller, tap).await;
        }
        let Some(cmd) = resolved.as_ref().and_then(Callback::command) else {
            let lang = self.lang(&caller).await;
            return self.answer(
                vec![ephemeral(
                    t(
                        lang,
                        "This button has expired; run the command again.",
                        "此按钮已过期；请重新运行命令。",
                    )
                    .into(),
                )],
                false,
            );
        };
        if let Some(plan) = self.flood_check(i.user.id.get(), &caller).await {
            return plan;
        }
        let page_turn = matches!(cmd, Command::Topics { .. });
        let messages = render::reply(&self.command(&caller, cmd).await);
        // Turning a page of the topic list edits the list in place.
        self.answer(messages, page_turn)
    }

    /// A tap on a paper's number or rating button: the first shows the paper's 👍 👎 ⭐ row,
    /// the second rates it (stored before the answer) and puts the chat's tally on the number.
    /// The answer updates the message's buttons only: no message is sent.
    pub(super) async fn on_rating_tap(
        &self,
        i: &ComponentInteraction,
        caller: &Caller,
        tap: &Callback,
    ) -> Plan {
        let Callback::Rate { id, tap: what } = tap else {
            return self.answer(vec![], false);
        };
        if let Some(plan) = self.flood_check(i.user.id.get(), caller).await {
            return plan;
        }
        let lang = self.lang(caller).await;
        if let RateTap::Rate(rate) = what
            && let Err(refused) = self
                .inner
                .core
                .rate(caller, id, *rate, &i.id.get().to_string())
                .await
        {
            return self.answer(vec![ephemeral(refused.0)], false);
        }
        let current: Keyboard = i
            .message
            .components
            .iter()
            .map(|row| {
                row.components
                    .iter()
                    .filter_map(|c| match c {
                        ActionRowComponent::Button(b) => match &b.data {
                            ButtonKind::NonLink { custom_id, .. } => {
                                Some((b.label.clone().unwrap_or_default(), custom_id.clone()))
                            }
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|row| !row.is_empty())
            .collect();
        // Every number from the store: the message a tap hands back may predate another
        // member's tap.
        let papers = numbered_papers(&current);
        let tallies = self.inner.core.rated(&caller.chat, &papers).await;
        let tallies: Vec<(String, paperbell_chat::Rated)> =
            papers.into_iter().zip(tallies).collect();
        let next = after_rating_tap(&current, tap, &tallies, lang);
        let rows: Vec<CreateActionRow> = next
            .into_iter()
            .map(|row| {
                CreateActionRow::Buttons(
                    row.into_iter()
                        .map(|(label, data)| {
                            CreateButton::new(data)
                                .label(label)
                                .style(ButtonStyle::Secondary)
                        })
                        .collect(),
                )
            })
            .collect();
        Plan {
            first: CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new().components(rows.clone()),
            ),
            first_message: None,
            new_rows: Some(rows),
            rest: vec![],
        }
    }

    /// The first message answers the interaction; the others follow.
    pub(super) fn answer(&self, mut messages: Vec<Message>, update: bool) -> Plan {
        if messages.is_empty() {
            messages.push(render::text("…").remove(0));
        }
        let first = messages.remove(0);
        let data = response_message(&first, &self.rows(&first));
        Plan {
            first: if update && messages.is_empty() {
                CreateInteractionResponse::UpdateMessage(data)
            } else {
                CreateInteractionResponse::Message(data)
            },
            first_message: Some(first),
            new_rows: None,
            rest: messages,
        }
    }

    /// Over the flood limit: the (ephemeral) answer to give instead of running the command;
    /// beyond the burst but within the queue, waits its turn first.
    pub(super) async fn flood_check(&self, user: u64, caller: &Caller) -> Option<Plan> {
        let verdict = self
            .inner
            .flood
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(user as i64, Instant::now());
        match verdict {
            Verdict::Allow => return None,
            // Its turn at the pace; an answer past 2.5 s is deferred as any slow one is.
            Verdict::Wait(d) => {
                tokio::time::sleep(d).await;
                return None;
            }
            Verdict::Warn | Verdict::Drop => {}
        }
        // Discord shows "interaction failed" for an unanswered one, so even a dropped command
        // gets the short, private note.
        let lang = self.lang(caller).await;
        Some(self.answer(
            vec![ephemeral(
                t(
                    lang,
                    "That is a lot of commands at once; please wait a few seconds and try again.",
                    "命令太多了；请稍等几秒再试。",
                )
                .into(),
            )],
            false,
        ))
    }

    pub(super) async fn command(&self, caller: &Caller, cmd: Command) -> Answer {
        self.inner.core.command(caller, cmd).await
    }

    pub(super) async fn lang(&self, caller: &Caller) -> Lang {
        self.inner.core.lang(caller).await
    }

    pub(super) fn rows(&self, m: &Message) -> Vec<CreateActionRow> {
        let mut table = self.inner.buttons.lock().unwrap_or_else(|e| e.into_inner());
        m.buttons
            .iter()
            .map(|row| {
                CreateActionRow::Buttons(
                    row.iter()
                        .map(|(label, cb)| {
                            CreateButton::new(table.data(cb.clone()))
                                .label(label.clone())
                                .style(ButtonStyle::Secondary)
                        })
                        .collect(),
                )
            })
            .collect()
    }
}

pub(super) fn ids(i: &Interaction) -> Option<(u64, String)> {
    Some(match i {
        Interaction::Command(c) | Interaction::Autocomplete(c) => (c.id.get(), c.token.clone()),
        Interaction::Component(c) => (c.id.get(), c.token.clone()),
        Interaction::Ping(p) => (p.id.get(), p.token.clone()),
        _ => return None,
    })
}

pub(super) fn caller(
    channel: ChannelId,
    guild: Option<GuildId>,
    member: Option<&Member>,
    locale: &str,
    user: u64,
) -> Caller {
    let perms = member.and_then(|m| m.permissions).map(|p| p.bits());
    Caller {
        chat: channel_ref(channel),
        can_manage: parse::can_manage(guild.is_some(), perms),
        locale: (!locale.is_empty()).then(|| locale.to_string()),
        member: Some(user.to_string()),
    }
}

pub(super) fn channel_ref(id: ChannelId) -> ChatRef {
    ChatRef {
        platform: Platform::Discord,
        id: id.get().to_string(),
    }
}

pub(super) fn channel_id(c: &ChatRef) -> Option<u64> {
    (c.platform == Platform::Discord)
        .then(|| c.id.parse().ok().filter(|n| *n != 0))
        .flatten()
}

pub(super) fn ephemeral(text: String) -> Message {
    Message {
        ephemeral: true,
        ..render::text(&text).remove(0)
    }
}

/// Several plain texts in a row (one per `/settings` change) read better as one message.
pub(super) fn merge_texts(messages: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    for m in messages {
        if let Some(last) = out.last_mut()
            && last.embeds.is_empty()
            && m.embeds.is_empty()
            && last.files.is_empty()
            && m.files.is_empty()
            && last.buttons.is_empty()
            && m.buttons.is_empty()
            && render::len(&last.content) + 1 + render::len(&m.content) <= render::MAX_CONTENT
        {
            last.content.push('\n');
            last.content.push_str(&m.content);
            last.ephemeral &= m.ephemeral;
            continue;
        }
        out.push(m);
    }
    out
}

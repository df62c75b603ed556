//! serenity's builders filled from rendered messages (`render::Message`), and the slash
//! commands registered from the shared catalogue.

use super::*;

pub(super) fn embeds(m: &Message) -> Vec<CreateEmbed> {
    m.embeds
        .iter()
        .map(|e| {
            let mut b = CreateEmbed::new()
                .title(e.title.clone())
                .description(e.description.clone());
            if let Some(url) = &e.url {
                b = b.url(url.clone());
            }
            if let Some(f) = &e.footer {
                b = b.footer(CreateEmbedFooter::new(f.clone()));
            }
            if let Some(u) = &e.image {
                b = b.image(u.clone());
            }
            if let Some(u) = &e.thumbnail {
                b = b.thumbnail(u.clone());
            }
            b
        })
        .collect()
}

pub(super) fn response_message(
    m: &Message,
    rows: &[CreateActionRow],
) -> CreateInteractionResponseMessage {
    fill!(CreateInteractionResponseMessage::new(), m, rows).ephemeral(m.ephemeral)
}

pub(super) fn followup(m: &Message, rows: &[CreateActionRow]) -> CreateInteractionResponseFollowup {
    fill!(CreateInteractionResponseFollowup::new(), m, rows).ephemeral(m.ephemeral)
}

pub(super) fn edit_message(m: &Message, rows: &[CreateActionRow]) -> EditInteractionResponse {
    fill!(EditInteractionResponse::new(), m, rows)
}

/// The slash commands as serenity builders, described in English with Chinese localizations.
pub fn command_builders() -> Vec<CreateCommand> {
    COMMANDS
        .iter()
        .map(|c| {
            let mut b = CreateCommand::new(c.name)
                .description(c.en)
                .description_localized(ZH_LOCALE, c.zh);
            if c.manage {
                b = b.default_member_permissions(Permissions::MANAGE_CHANNELS);
            }
            for o in c.args {
                let kind = match o.kind {
                    ArgKind::Integer { .. } => CommandOptionType::Integer,
                    ArgKind::File => CommandOptionType::Attachment,
                    _ => CommandOptionType::String,
                };
                let mut opt = CreateCommandOption::new(kind, o.name, o.en)
                    .description_localized(ZH_LOCALE, o.zh)
                    .required(o.required);
                match o.kind {
                    ArgKind::Text { topic } => {
                        opt = opt
                            .set_autocomplete(topic)
                            .max_length(parse::MAX_OPTION_CHARS);
                    }
                    ArgKind::Integer { min, max } => {
                        opt = opt.min_int_value(min.into()).max_int_value(max.into());
                    }
                    ArgKind::Choice(values) => {
                        for (value, en, zh) in values {
                            opt = opt.add_string_choice_localized(*en, *value, [(ZH_LOCALE, *zh)]);
                        }
                    }
                    ArgKind::File => {}
                }
                b = b.add_option(opt);
            }
            b
        })
        .collect()
}

// pages/labels.js - the listening vocabularies the console offers (the
// server validates them again: src/listening/listening.c).

export const HEADS = {
  sentiment: ["positive", "negative", "neutral"],
  kind: ["complaint", "suggestion", "question", "praise", "other"],
  topic: ["cards", "transfers", "fees", "loans", "call_center", "app_online", "branch", "fraud_security", "staff", "other"],
};
export const SOURCES = ["twitter", "instagram", "telegram", "linkedin", "facebook", "forum", "app_store", "google_play",
                        "own_channel", "messenger", "news", "youtube", "vk"];
export const RISKS = ["card_misuse", "threat_leave", "threat_sue", "insolvency_rumour"];
export const STATES = ["open", "acknowledged", "waiting", "resolved"];
export const PRIORITIES = ["urgent", "high", "normal", "low"];

"""Pure rules of operator tasks: the message templates (话术模板) and their placeholders, and due dates."""

from __future__ import annotations

from datetime import date, timedelta
from string import Formatter

from community.tasks.models import TaskKind

TEMPLATES: dict[TaskKind, str] = {
    TaskKind.CREATE_GROUP: "请在企业微信创建客户群「{group}」，完成后在任务里填写它的群聊 ID。截止 {due}。",
    TaskKind.POST_NOTICE: "请在「{group}」发布解散通知：本群将于 {dissolve_on} 起分批解散，欢迎加入缓冲群「{target}」"
    "继续获取福利，并关注小程序和公众号。截止 {due}。",
    TaskKind.INVITE_MEMBER: "请邀请会员 {member} 加入 VIP 群「{target}」（群内或私聊邀请）。截止 {due}。",
    TaskKind.WARN_MEMBER: "请提醒 VIP 会员 {member}：近期消费未达 VIP 标准，"
    "{grace_until} 前仍未达标将移出「{group}」。",
    TaskKind.REMOVE_MEMBER: "请将会员 {member} 移出「{group}」{then}。截止 {due}。",
    TaskKind.MOVE_TO_BUFFER: "请将会员 {member} 从「{group}」拉入缓冲群「{target}」。截止 {due}。",
    TaskKind.DISSOLVE_GROUP: "请解散客户群「{group}」（成员已转入「{target}」）。截止 {due}。",
}


def placeholders(kind: TaskKind) -> set[str]:
    """The names a kind's template needs filled."""
    return {name for _, name, _, _ in Formatter().parse(TEMPLATES[kind]) if name}


def message(kind: TaskKind, **values: object) -> str:
    """The kind's template with its placeholders filled; KeyError when one is missing (a bug, not input)."""
    return TEMPLATES[kind].format_map({name: values[name] for name in placeholders(kind)})


def due_on(as_of: date, days: int) -> date:
    """When a task made for `as_of` is due."""
    return as_of + timedelta(days=days)


def short_member(member_id: object) -> str:
    """How a task names a member: the first 8 characters of the id (no personal data in task text)."""
    return str(member_id)[:8]

import datetime

from beez.api.messages.v1 import commands_comms_pb2 as _commands_comms_pb2
from beez.api.messages.v1 import commands_control_pb2 as _commands_control_pb2
from beez.api.messages.v1 import commands_conversations_pb2 as _commands_conversations_pb2
from beez.api.messages.v1 import commands_crm_pb2 as _commands_crm_pb2
from beez.api.messages.v1 import commands_tasks_pb2 as _commands_tasks_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AddTag(_message.Message):
    __slots__ = ("tag",)
    TAG_FIELD_NUMBER: _ClassVar[int]
    tag: str
    def __init__(self, tag: _Optional[str] = ...) -> None: ...

class RemoveTag(_message.Message):
    __slots__ = ("tag",)
    TAG_FIELD_NUMBER: _ClassVar[int]
    tag: str
    def __init__(self, tag: _Optional[str] = ...) -> None: ...

class UpdateField(_message.Message):
    __slots__ = ("field", "value")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: _struct_pb2.Value
    def __init__(self, field: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class AddToList(_message.Message):
    __slots__ = ("list",)
    LIST_FIELD_NUMBER: _ClassVar[int]
    list: str
    def __init__(self, list: _Optional[str] = ...) -> None: ...

class RemoveFromList(_message.Message):
    __slots__ = ("list",)
    LIST_FIELD_NUMBER: _ClassVar[int]
    list: str
    def __init__(self, list: _Optional[str] = ...) -> None: ...

class UpdateScore(_message.Message):
    __slots__ = ("delta",)
    DELTA_FIELD_NUMBER: _ClassVar[int]
    delta: int
    def __init__(self, delta: _Optional[int] = ...) -> None: ...

class AssignUser(_message.Message):
    __slots__ = ("user_id", "team")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    team: str
    def __init__(self, user_id: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...

class CreateTask(_message.Message):
    __slots__ = ("title", "description", "assignee", "due_in_hours", "task_id", "priority", "due_at")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    DUE_IN_HOURS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    title: str
    description: str
    assignee: str
    due_in_hours: int
    task_id: str
    priority: _commands_tasks_pb2.TaskPriority
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, title: _Optional[str] = ..., description: _Optional[str] = ..., assignee: _Optional[str] = ..., due_in_hours: _Optional[int] = ..., task_id: _Optional[str] = ..., priority: _Optional[_Union[_commands_tasks_pb2.TaskPriority, str]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SendNotification(_message.Message):
    __slots__ = ("message", "user_id", "channel")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    message: str
    user_id: str
    channel: str
    def __init__(self, message: _Optional[str] = ..., user_id: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class PlatformCommand(_message.Message):
    __slots__ = ("idempotency_key", "organization_id", "contact_id", "execution_id", "automation_id", "add_tag", "remove_tag", "update_field", "add_to_list", "remove_from_list", "update_score", "assign_user", "create_task", "send_notification", "create_contact", "delete_contact", "merge_contacts", "update_lifecycle_stage", "calculate_lead_score", "update_custom_field", "copy_field", "append_to_field", "subscribe_newsletter", "unsubscribe", "update_consent", "set_do_not_contact", "create_relationship", "log_activity", "upload_document", "export_contact_data", "request_gdpr_deletion", "assign_task", "set_task_due_date", "complete_task", "create_calendar_event", "send_task_reminder", "update_task_priority", "add_task_comment", "create_follow_up_sequence", "log_phone_call", "log_meeting_notes", "schedule_meeting", "reply_to_conversation", "close_conversation", "reopen_conversation", "add_conversation_note", "assign_conversation", "transfer_conversation", "alert_admins", "create_email_draft")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    ADD_TAG_FIELD_NUMBER: _ClassVar[int]
    REMOVE_TAG_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FIELD_FIELD_NUMBER: _ClassVar[int]
    ADD_TO_LIST_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FROM_LIST_FIELD_NUMBER: _ClassVar[int]
    UPDATE_SCORE_FIELD_NUMBER: _ClassVar[int]
    ASSIGN_USER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TASK_FIELD_NUMBER: _ClassVar[int]
    SEND_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    CREATE_CONTACT_FIELD_NUMBER: _ClassVar[int]
    DELETE_CONTACT_FIELD_NUMBER: _ClassVar[int]
    MERGE_CONTACTS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_LIFECYCLE_STAGE_FIELD_NUMBER: _ClassVar[int]
    CALCULATE_LEAD_SCORE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_CUSTOM_FIELD_FIELD_NUMBER: _ClassVar[int]
    COPY_FIELD_FIELD_NUMBER: _ClassVar[int]
    APPEND_TO_FIELD_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_NEWSLETTER_FIELD_NUMBER: _ClassVar[int]
    UNSUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_CONSENT_FIELD_NUMBER: _ClassVar[int]
    SET_DO_NOT_CONTACT_FIELD_NUMBER: _ClassVar[int]
    CREATE_RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    LOG_ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    EXPORT_CONTACT_DATA_FIELD_NUMBER: _ClassVar[int]
    REQUEST_GDPR_DELETION_FIELD_NUMBER: _ClassVar[int]
    ASSIGN_TASK_FIELD_NUMBER: _ClassVar[int]
    SET_TASK_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TASK_FIELD_NUMBER: _ClassVar[int]
    CREATE_CALENDAR_EVENT_FIELD_NUMBER: _ClassVar[int]
    SEND_TASK_REMINDER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TASK_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ADD_TASK_COMMENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_FOLLOW_UP_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LOG_PHONE_CALL_FIELD_NUMBER: _ClassVar[int]
    LOG_MEETING_NOTES_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_MEETING_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    CLOSE_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    REOPEN_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    ADD_CONVERSATION_NOTE_FIELD_NUMBER: _ClassVar[int]
    ASSIGN_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    ALERT_ADMINS_FIELD_NUMBER: _ClassVar[int]
    CREATE_EMAIL_DRAFT_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    organization_id: str
    contact_id: str
    execution_id: str
    automation_id: str
    add_tag: AddTag
    remove_tag: RemoveTag
    update_field: UpdateField
    add_to_list: AddToList
    remove_from_list: RemoveFromList
    update_score: UpdateScore
    assign_user: AssignUser
    create_task: CreateTask
    send_notification: SendNotification
    create_contact: _commands_crm_pb2.CreateContact
    delete_contact: _commands_crm_pb2.DeleteContact
    merge_contacts: _commands_crm_pb2.MergeContacts
    update_lifecycle_stage: _commands_crm_pb2.UpdateLifecycleStage
    calculate_lead_score: _commands_crm_pb2.CalculateLeadScore
    update_custom_field: _commands_crm_pb2.UpdateCustomField
    copy_field: _commands_crm_pb2.CopyField
    append_to_field: _commands_crm_pb2.AppendToField
    subscribe_newsletter: _commands_crm_pb2.SubscribeNewsletter
    unsubscribe: _commands_crm_pb2.Unsubscribe
    update_consent: _commands_crm_pb2.UpdateConsent
    set_do_not_contact: _commands_crm_pb2.SetDoNotContact
    create_relationship: _commands_crm_pb2.CreateRelationship
    log_activity: _commands_crm_pb2.LogActivity
    upload_document: _commands_crm_pb2.UploadDocument
    export_contact_data: _commands_crm_pb2.ExportContactData
    request_gdpr_deletion: _commands_crm_pb2.RequestGdprDeletion
    assign_task: _commands_tasks_pb2.AssignTask
    set_task_due_date: _commands_tasks_pb2.SetTaskDueDate
    complete_task: _commands_tasks_pb2.CompleteTask
    create_calendar_event: _commands_tasks_pb2.CreateCalendarEvent
    send_task_reminder: _commands_tasks_pb2.SendTaskReminder
    update_task_priority: _commands_tasks_pb2.UpdateTaskPriority
    add_task_comment: _commands_tasks_pb2.AddTaskComment
    create_follow_up_sequence: _commands_tasks_pb2.CreateFollowUpSequence
    log_phone_call: _commands_tasks_pb2.LogPhoneCall
    log_meeting_notes: _commands_tasks_pb2.LogMeetingNotes
    schedule_meeting: _commands_tasks_pb2.ScheduleMeeting
    reply_to_conversation: _commands_conversations_pb2.ReplyToConversation
    close_conversation: _commands_conversations_pb2.CloseConversation
    reopen_conversation: _commands_conversations_pb2.ReopenConversation
    add_conversation_note: _commands_conversations_pb2.AddConversationNote
    assign_conversation: _commands_conversations_pb2.AssignConversation
    transfer_conversation: _commands_conversations_pb2.TransferConversation
    alert_admins: _commands_control_pb2.AlertAdmins
    create_email_draft: _commands_comms_pb2.CreateEmailDraft
    def __init__(self, idempotency_key: _Optional[str] = ..., organization_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., automation_id: _Optional[str] = ..., add_tag: _Optional[_Union[AddTag, _Mapping]] = ..., remove_tag: _Optional[_Union[RemoveTag, _Mapping]] = ..., update_field: _Optional[_Union[UpdateField, _Mapping]] = ..., add_to_list: _Optional[_Union[AddToList, _Mapping]] = ..., remove_from_list: _Optional[_Union[RemoveFromList, _Mapping]] = ..., update_score: _Optional[_Union[UpdateScore, _Mapping]] = ..., assign_user: _Optional[_Union[AssignUser, _Mapping]] = ..., create_task: _Optional[_Union[CreateTask, _Mapping]] = ..., send_notification: _Optional[_Union[SendNotification, _Mapping]] = ..., create_contact: _Optional[_Union[_commands_crm_pb2.CreateContact, _Mapping]] = ..., delete_contact: _Optional[_Union[_commands_crm_pb2.DeleteContact, _Mapping]] = ..., merge_contacts: _Optional[_Union[_commands_crm_pb2.MergeContacts, _Mapping]] = ..., update_lifecycle_stage: _Optional[_Union[_commands_crm_pb2.UpdateLifecycleStage, _Mapping]] = ..., calculate_lead_score: _Optional[_Union[_commands_crm_pb2.CalculateLeadScore, _Mapping]] = ..., update_custom_field: _Optional[_Union[_commands_crm_pb2.UpdateCustomField, _Mapping]] = ..., copy_field: _Optional[_Union[_commands_crm_pb2.CopyField, _Mapping]] = ..., append_to_field: _Optional[_Union[_commands_crm_pb2.AppendToField, _Mapping]] = ..., subscribe_newsletter: _Optional[_Union[_commands_crm_pb2.SubscribeNewsletter, _Mapping]] = ..., unsubscribe: _Optional[_Union[_commands_crm_pb2.Unsubscribe, _Mapping]] = ..., update_consent: _Optional[_Union[_commands_crm_pb2.UpdateConsent, _Mapping]] = ..., set_do_not_contact: _Optional[_Union[_commands_crm_pb2.SetDoNotContact, _Mapping]] = ..., create_relationship: _Optional[_Union[_commands_crm_pb2.CreateRelationship, _Mapping]] = ..., log_activity: _Optional[_Union[_commands_crm_pb2.LogActivity, _Mapping]] = ..., upload_document: _Optional[_Union[_commands_crm_pb2.UploadDocument, _Mapping]] = ..., export_contact_data: _Optional[_Union[_commands_crm_pb2.ExportContactData, _Mapping]] = ..., request_gdpr_deletion: _Optional[_Union[_commands_crm_pb2.RequestGdprDeletion, _Mapping]] = ..., assign_task: _Optional[_Union[_commands_tasks_pb2.AssignTask, _Mapping]] = ..., set_task_due_date: _Optional[_Union[_commands_tasks_pb2.SetTaskDueDate, _Mapping]] = ..., complete_task: _Optional[_Union[_commands_tasks_pb2.CompleteTask, _Mapping]] = ..., create_calendar_event: _Optional[_Union[_commands_tasks_pb2.CreateCalendarEvent, _Mapping]] = ..., send_task_reminder: _Optional[_Union[_commands_tasks_pb2.SendTaskReminder, _Mapping]] = ..., update_task_priority: _Optional[_Union[_commands_tasks_pb2.UpdateTaskPriority, _Mapping]] = ..., add_task_comment: _Optional[_Union[_commands_tasks_pb2.AddTaskComment, _Mapping]] = ..., create_follow_up_sequence: _Optional[_Union[_commands_tasks_pb2.CreateFollowUpSequence, _Mapping]] = ..., log_phone_call: _Optional[_Union[_commands_tasks_pb2.LogPhoneCall, _Mapping]] = ..., log_meeting_notes: _Optional[_Union[_commands_tasks_pb2.LogMeetingNotes, _Mapping]] = ..., schedule_meeting: _Optional[_Union[_commands_tasks_pb2.ScheduleMeeting, _Mapping]] = ..., reply_to_conversation: _Optional[_Union[_commands_conversations_pb2.ReplyToConversation, _Mapping]] = ..., close_conversation: _Optional[_Union[_commands_conversations_pb2.CloseConversation, _Mapping]] = ..., reopen_conversation: _Optional[_Union[_commands_conversations_pb2.ReopenConversation, _Mapping]] = ..., add_conversation_note: _Optional[_Union[_commands_conversations_pb2.AddConversationNote, _Mapping]] = ..., assign_conversation: _Optional[_Union[_commands_conversations_pb2.AssignConversation, _Mapping]] = ..., transfer_conversation: _Optional[_Union[_commands_conversations_pb2.TransferConversation, _Mapping]] = ..., alert_admins: _Optional[_Union[_commands_control_pb2.AlertAdmins, _Mapping]] = ..., create_email_draft: _Optional[_Union[_commands_comms_pb2.CreateEmailDraft, _Mapping]] = ...) -> None: ...

from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ReplyToConversation(_message.Message):
    __slots__ = ("conversation_id", "message_id", "body", "author_user_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    message_id: str
    body: str
    author_user_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., message_id: _Optional[str] = ..., body: _Optional[str] = ..., author_user_id: _Optional[str] = ...) -> None: ...

class CloseConversation(_message.Message):
    __slots__ = ("conversation_id", "reason")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    reason: str
    def __init__(self, conversation_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ReopenConversation(_message.Message):
    __slots__ = ("conversation_id", "reason")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    reason: str
    def __init__(self, conversation_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AddConversationNote(_message.Message):
    __slots__ = ("conversation_id", "note_id", "body")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    note_id: str
    body: str
    def __init__(self, conversation_id: _Optional[str] = ..., note_id: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class AssignConversation(_message.Message):
    __slots__ = ("conversation_id", "agent_id", "team")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    agent_id: str
    team: str
    def __init__(self, conversation_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...

class TransferConversation(_message.Message):
    __slots__ = ("conversation_id", "inbox", "note")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    INBOX_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    inbox: str
    note: str
    def __init__(self, conversation_id: _Optional[str] = ..., inbox: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

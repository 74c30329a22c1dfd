"""Reader comments, which the gateway owns: one document per comment, and per article the
list of its comment ids (appended and removed by ``_id``, the operations every
MongoDB-wire store serves from an index and applies atomically)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from newswire_platform import store_errors
from pymongo.asynchronous.database import AsyncDatabase

from newswire_gateway.domain.models import Comment

__all__ = ["CommentStore"]

COMMENTS_COLLECTION = "comments"
ARTICLE_COMMENTS_COLLECTION = "article_comments"


class CommentStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        self._comments = database[COMMENTS_COLLECTION]
        self._lists = database[ARTICLE_COMMENTS_COLLECTION]

    async def post(self, article_id: str, *, author: str, body: str, now: datetime) -> Comment:
        comment = Comment(
            id=uuid.uuid4().hex, article_id=article_id, author=author, body=body, posted_at=now
        )
        with store_errors():
            await self._comments.insert_one(comment.document())
            await self._lists.update_one(
                {"_id": article_id}, {"$push": {"ids": comment.id}}, upsert=True
            )
        return comment

    async def list(self, article_id: str, *, limit: int) -> list[Comment]:
        """The article's latest ``limit`` comments, oldest first."""
        with store_errors():
            index = await self._lists.find_one({"_id": article_id})
            ids = (index or {}).get("ids", [])[-limit:]
            documents = await asyncio.gather(*(self._comments.find_one({"_id": i}) for i in ids))
        comments = [Comment.from_document(d) for d in documents if d is not None]
        return [c for c in comments if not c.hidden]

    async def get(self, article_id: str, comment_id: str) -> Comment | None:
        with store_errors():
            document = await self._comments.find_one({"_id": comment_id})
        if document is None or document["article_id"] != article_id:
            return None
        return Comment.from_document(document)

    async def set_hidden(self, article_id: str, comment_id: str, hidden: bool) -> Comment | None:
        comment = await self.get(article_id, comment_id)
        if comment is None:
            return None
        with store_errors():
            await self._comments.update_one({"_id": comment_id}, {"$set": {"hidden": hidden}})
        return comment.model_copy(update={"hidden": hidden})

    async def delete(self, article_id: str, comment_id: str) -> bool:
        if await self.get(article_id, comment_id) is None:
            return False
        with store_errors():
            await self._lists.update_one({"_id": article_id}, {"$pull": {"ids": comment_id}})
            await self._comments.delete_one({"_id": comment_id})
        return True

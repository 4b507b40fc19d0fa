"""A mail server for benchmarks: it accepts every message at once and keeps it, so that what is
measured is the project's sending, not a mail server's.

Speaks just enough SMTP for Django's SMTP backend (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
"""

import asyncio
import email
import threading
import time
from email.message import Message


class SmtpSink:
    """Listening on 127.0.0.1 in a thread of its own; `messages` in the order they came."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, Message]] = []
        self.sessions = 0  # connections opened to it
        self._writers: set[asyncio.StreamWriter] = set()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self.port = 0
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        started.wait(10)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._session, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        started.set()
        self._loop.run_forever()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        with self._lock:
            self.sessions += 1
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go on\r\n")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    body = data[: -len(b"\r\n.\r\n")].replace(b"\r\n..", b"\r\n.")
                    with self._lock:
                        self.messages.append((time.monotonic(), email.message_from_bytes(body)))
                    writer.write(b"250 kept\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.close()

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def wait_for(self, count: int, timeout: float) -> float:
        """Until `count` messages have come (or `timeout` seconds passed); the monotonic time."""
        deadline = time.monotonic() + timeout
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return time.monotonic()

    def kept(self) -> list[tuple[float, Message]]:
        with self._lock:
            return list(self.messages)

    def hang_up(self) -> None:
        """Close every open connection, as a server does with one idle too long."""

        def closing() -> None:
            for writer in list(self._writers):
                writer.close()

        self._loop.call_soon_threadsafe(closing)
        time.sleep(0.2)

    def close(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def text_of(message: Message) -> str:
    """The plain-text part of a message, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""

FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
RUN pip install --no-cache-dir --no-deps .
VOLUME /app/data
ENV DATABASE_URL=sqlite+aiosqlite:////app/data/modelbridge.db
CMD ["modelbridge", "run"]
